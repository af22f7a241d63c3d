/**
 * A real authority in this process for the benchmarks: `startAuthority` of
 * @baton/authority (identity, issuer, delegation, anomaly and audit services on one gRPC
 * server on 127.0.0.1, talking to each other over gRPC, one SQLite store) from a config
 * in a temporary data directory, plus an operator and an orchestrator that set up a
 * workflow and mint launch tokens.
 *
 * Audit is durable: the services emit through one audit client whose `emit` resolves
 * once the event is fsynced to its spool and which ships to the authority's own
 * AuditService (SQLite log, synchronous FULL). The app would open one such client per
 * service; a single shared one is used here so a benchmark can wait until every event
 * has reached the log (`auditClient.drain()`).
 */
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { Agent, createAgent } from '@baton/agent';
import { createAuditClient, grpcAuditTransport, type AuditClient } from '@baton/audit';
import { resolveConfig, serviceKey, startAuthority, type Authority } from '@baton/authority';
import { generateKeyPair, noopAuditSink, parseScope, type KeyPair, type Scope } from '@baton/core';
import { keyProofMetadata } from '@baton/guard';
import { createClient, scopeToProto, type Client } from '@baton/proto';
import {
  AddOrchestratorRequestSchema,
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  IdentityService,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';

export const TRUST_DOMAIN = 'baton.local';
export const ISSUER = 'spiffe://baton.local/authority';
export const AUDIENCE = 'payments';
export const WORKFLOW = 'expense-approval';
export const ORCHESTRATOR = 'bench-orchestrator';
export const PRINCIPAL = 'user:vp@acme.example';
/** The scopes every bench task is launched with. */
export const TASK_SCOPES: readonly Scope[] = [
  parseScope({ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } }),
  parseScope('read:invoices'),
];

/** Options of {@link startBenchAuthority}. */
export interface BenchAuthorityOptions {
  /** Host the AuditService and send every service's events through a durable client. Default true. */
  readonly audit?: boolean;
  /** Renewals per token lineage (workflow policy). Default 1000 (the issuer's ceiling). */
  readonly maxRenewals?: number;
}

/** The running authority and what the benchmarks need from it. */
export interface BenchAuthority {
  /** `127.0.0.1:<port>`: every service of the authority. */
  readonly address: string;
  readonly issuerClient: Client<typeof IssuerService>;
  /** The durable audit client every service emits through (undefined without audit). */
  readonly auditClient: AuditClient | undefined;
  /** A one-time launch token for a new task (orchestrator call, outside any timing). */
  launchToken(task: string): Promise<string>;
  /** Registers an agent for a new task (GetChallenge → Register → first token). */
  agent(task: string, launchToken?: string): Promise<Agent>;
  close(): Promise<void>;
}

/** Signs `request` for `method` with `keyPair` (key-holder call) and sends it. */
async function keyCall<I extends DescMessage, O>(
  keyPair: KeyPair,
  schema: I,
  method: string,
  request: MessageInitShape<I>,
  call: (req: MessageInitShape<I>, opts: { metadata: Record<string, string> }) => Promise<O>,
): Promise<O> {
  const bytes = toBinary(schema, create(schema, request));
  return call(request, { metadata: keyProofMetadata(keyPair, method, bytes) });
}

/** A port free on 127.0.0.1 right now (the audit client must know the address before the authority starts). */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** A fresh authority; `close()` stops everything and removes its files. */
export async function startBenchAuthority(options: BenchAuthorityOptions = {}): Promise<BenchAuthority> {
  const withAudit = options.audit ?? true;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-bench-'));
  const closers: Array<() => unknown> = [];
  const closeAll = async (): Promise<void> => {
    for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
    closers.length = 0;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const operatorKey = generateKeyPair();
    const orchestratorKey = generateKeyPair();
    const address = `127.0.0.1:${await freePort()}`;
    const config = resolveConfig(
      {
        dataDir: '.',
        listen: address,
        services: withAudit ? ['identity', 'issuer', 'delegation', 'anomaly', 'audit'] : ['identity', 'issuer', 'delegation', 'anomaly'],
        operators: [{ id: 'bench-operator', jwk: operatorKey.publicJwk }],
      },
      dir,
      {}, // no environment overrides
    );

    let auditClient: AuditClient | undefined;
    if (withAudit) {
      // The issuer's service key is one of the log's writers.
      auditClient = await createAuditClient({
        transport: grpcAuditTransport({ target: address, keyPair: serviceKey(config, 'issuer') }),
        spoolDir: path.join(dir, 'bench-spool'),
        source: 'authority',
        onAlarm: (a) => process.stderr.write(`[bench authority audit] ${a.kind}: ${a.detail}\n`),
      });
      const client = auditClient;
      closers.push(() => client.close());
    }
    const authority: Authority = await startAuthority(config, { audit: auditClient ?? noopAuditSink });
    closers.push(() => authority.close());

    const issuerClient = createClient(IssuerService, address);
    closers.push(() => issuerClient.close());
    const identityClient = createClient(IdentityService, address);
    closers.push(() => identityClient.close());

    await keyCall(operatorKey, CreateWorkflowRequestSchema, '/baton.identity.v1.IdentityService/CreateWorkflow', {
      id: WORKFLOW,
      policy: {
        scopeCeiling: TASK_SCOPES.map(scopeToProto),
        defaultTokenTtlSeconds: 600,
        maxTokenTtlSeconds: 600,
        maxTaskTtlSeconds: 3600,
        maxRenewals: options.maxRenewals ?? 1000,
        maxDelegationDepth: 5,
        allowRedelegation: true,
        heartbeat: { intervalSeconds: 30, missesBeforeFlag: 3 },
      },
    }, (r, o) => identityClient.createWorkflow(r, o));
    await keyCall(operatorKey, AddOrchestratorRequestSchema, '/baton.identity.v1.IdentityService/AddOrchestrator', {
      id: ORCHESTRATOR,
      publicKey: orchestratorKey.rawPublicKey,
      workflowIds: [WORKFLOW],
    }, (r, o) => identityClient.addOrchestrator(r, o));

    const launchToken = async (task: string): Promise<string> => {
      const res = await keyCall(orchestratorKey, CreateLaunchTokenRequestSchema, '/baton.identity.v1.IdentityService/CreateLaunchToken', {
        workflowId: WORKFLOW,
        taskId: task,
        principal: PRINCIPAL,
        scopes: TASK_SCOPES.map(scopeToProto),
        audiences: [AUDIENCE],
      }, (r, o) => identityClient.createLaunchToken(r, o));
      return res.launchToken;
    };

    const agents = new Set<Agent>();
    closers.push(async () => {
      for (const a of agents) await a.release('bench done').catch(() => undefined);
    });
    return {
      address,
      issuerClient,
      auditClient,
      launchToken,
      async agent(task, token) {
        const a = await createAgent({ authority: address, launchToken: token ?? (await launchToken(task)), heartbeat: false, env: {} });
        agents.add(a);
        return a;
      },
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
