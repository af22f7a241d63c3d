/**
 * Everything a scenario runs against, each as its own process: the authority, the guarded
 * payments server, and (on demand) agents and an attacker. Also the operator and
 * orchestrator clients, a temp data dir (0700, keys 0600) and the shared span file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Scope } from '@baton/core';
import { loadConfig, loadOrCreateKeyFile } from '@baton/authority';
import { auditVerifierOf } from './audit-verifier.js';
import { createClient } from '@baton/proto';
import type { Client } from '@baton/proto';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { keyHolderClient } from '@baton/guard';
import { startAuthorityProcess } from './authority-process.js';
import type { AuthorityProcess } from './authority-process.js';
import { startChild, stopAllChildren } from './child-process.js';
import type { ChildHandle } from './child-process.js';
import { createGovernance } from './governance.js';
import type { Governance } from './governance.js';
import { currentTraceparent } from './process-tracing.js';
import { isServing } from './service-health.js';

const script = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));

/** The running system a scenario acts on. */
export interface DemoWorld {
  /** Temp dir holding keys (0600), the authority's data and the span file. */
  readonly dir: string;
  readonly spanFile: string;
  readonly seed: number;
  readonly authority: AuthorityProcess;
  /** Where DelegationService runs: the authority, or the demo's own process beside it. */
  readonly delegation: { readonly address: string; readonly standalone: boolean; readonly child?: ChildHandle };
  /** The authority's audit log and the key its checkpoints verify under (C2SP verifier key). */
  readonly audit: { readonly address: string; readonly verifierKey: string; readonly origin: string };
  readonly payments: ChildHandle;
  readonly governance: Governance;
  /** Unauthenticated issuer client (revocation stream, keys). */
  readonly issuer: Client<typeof IssuerService>;
  /** The operator reading the audit log (reads are operator-only, signed by the operator key). */
  readonly auditReader: Client<typeof AuditService>;
  /**
   * Spawns an agent process with a launch token in its environment (the one secret a
   * child gets, single use and consumed at start), continuing the current trace.
   */
  spawnAgent(name: string, launchToken: string, requestedScopes?: readonly Scope[]): Promise<ChildHandle>;
  /** Starts the attacker process (`extraEnv`: e.g. the legacy server's address). */
  startAttacker(extraEnv?: Readonly<Record<string, string>>): Promise<ChildHandle>;
  /** Starts another of the demo's scripts (e.g. `legacy-payments-server.js`). */
  startProcess(name: string, scriptName: string, env: Readonly<Record<string, string>>): Promise<ChildHandle>;
  /** Stops every process (they flush their spans on the way out). */
  stop(): Promise<void>;
  /** Removes the temp dir and everything in it (also done at process exit unless kept). */
  removeDir(): void;
  /** Keeps the temp dir after exit (for inspection after a failure). */
  keepDir(): void;
}

/** Creates the temp dir and starts the authority and the payments server. */
export async function startWorld(seed: number): Promise<DemoWorld> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-demo-'));
  fs.chmodSync(dir, 0o700);
  const spanFile = path.join(dir, 'spans.jsonl');
  const removeDir = (): void => fs.rmSync(dir, { recursive: true, force: true });
  // Whatever way the driver exits, its temp dir (keys included) goes with it.
  process.on('exit', removeDir);
  const closers: (() => Promise<void> | void)[] = [];
  try {
    // The payments server's own key: it signs what it appends to the audit log, so the
    // authority config lists its public half among the resource servers.
    const paymentsKeyFile = path.join(dir, 'payments.jwk');
    const paymentsKey = loadOrCreateKeyFile(paymentsKeyFile);
    const authority = await startAuthorityProcess(dir, spanFile, {
      services: ['identity', 'issuer', 'delegation', 'audit'],
      resources: [{ id: 'payments', jwk: paymentsKey.publicJwk }],
    });
    const config = loadConfig(authority.configFile, {});
    if (!(await isServing(authority.address, 'baton.audit.v1.AuditService'))) throw new Error('this authority build does not host the audit log');
    const audit = { address: authority.address, ...auditVerifierOf(config) };
    const auditReader = keyHolderClient(AuditService, audit.address, authority.operatorKey);
    closers.push(() => auditReader.close());
    const auditEnv = (name: string): Record<string, string> => ({ BATON_AUDIT: audit.address, BATON_AUDIT_SPOOL: path.join(dir, `spool-${name}`) });
    // An authority build that does not host delegation gets it beside it, composed the
    // way the authority would (its key directory, gRPC between services).
    let delegation: DemoWorld['delegation'] = { address: authority.address, standalone: false };
    if (!(await isServing(authority.address, 'baton.delegation.v1.DelegationService'))) {
      const child = await startChild({
        name: 'delegation',
        script: script('delegation-process.js'),
        env: { BATON_AUTHORITY_CONFIG: authority.configFile, BATON_AUTHORITY: authority.address, BATON_TRACE_FILE: spanFile, ...auditEnv('delegation') },
      });
      delegation = { address: String(child.ready['address']), standalone: true, child };
    }
    const orchestratorKey = loadOrCreateKeyFile(path.join(dir, 'orchestrator.jwk'));
    const governance = createGovernance(authority.address, authority.operatorKey, orchestratorKey);
    closers.push(() => governance.close());
    const issuer = createClient(IssuerService, authority.address);
    closers.push(() => issuer.close());
    const payments = await startChild({
      name: 'payments',
      script: script('payments-server.js'),
      env: { BATON_AUTHORITY: authority.address, BATON_TRACE_FILE: spanFile, BATON_PAYMENTS_KEY_FILE: paymentsKeyFile, ...auditEnv('payments') },
    });
    const paymentsAddress = String(payments.ready['address']);

    // Stopped in order at the end: agents first (they release on the way out), then the
    // servers, the authority last, so every release is recorded.
    const spawned: ChildHandle[] = [];
    const track = async (p: Promise<ChildHandle>): Promise<ChildHandle> => {
      const c = await p;
      spawned.push(c);
      return c;
    };
    const common = { BATON_AUTHORITY: authority.address, BATON_DELEGATION: delegation.address, BATON_PAYMENTS: paymentsAddress, BATON_TRACE_FILE: spanFile };
    return {
      dir,
      spanFile,
      seed,
      authority,
      delegation,
      audit,
      payments,
      governance,
      issuer,
      auditReader,
      spawnAgent(name, launchToken, requestedScopes) {
        const traceparent = currentTraceparent();
        return track(startChild({
          name: `agent:${name}`,
          script: script('agent-process.js'),
          env: {
            ...common,
            BATON_AGENT_NAME: name,
            BATON_LAUNCH_TOKEN: launchToken,
            BATON_DEMO_SEED: String(seed),
            ...(requestedScopes ? { BATON_REQUESTED_SCOPES: JSON.stringify(requestedScopes) } : {}),
            ...(traceparent ? { TRACEPARENT: traceparent } : {}),
          },
        }));
      },
      startAttacker(extraEnv = {}) {
        return track(startChild({ name: 'attacker', script: script('attacker-process.js'), env: { ...common, ...extraEnv } }));
      },
      startProcess(name, scriptName, env) {
        return track(startChild({ name, script: script(scriptName), env: { BATON_TRACE_FILE: spanFile, ...env } }));
      },
      async stop() {
        for (const c of closers.splice(0).reverse()) await c();
        await Promise.all(spawned.map((c) => c.stop()));
        await Promise.all([payments.stop(), delegation.child?.stop()]);
        await authority.child.stop();
        await stopAllChildren();
      },
      removeDir,
      keepDir() {
        process.off('exit', removeDir);
      },
    };
  } catch (err) {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
    await stopAllChildren();
    throw err;
  }
}
