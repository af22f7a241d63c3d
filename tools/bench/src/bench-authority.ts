/**
 * A real authority in this process for the benchmarks: identity, issuer, delegation and
 * audit services on one gRPC server on 127.0.0.1 (port 0), reaching each other only
 * through gRPC clients as the authority app composes them, over a temporary SQLite file.
 * Audit is durable: every service emits through one audit client (fsynced spool) that
 * ships to the AuditService, whose log is SQLite with `synchronous = FULL`.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { Agent, createAgent } from '@baton/agent';
import {
  AUDIT_CLIENT_DEFAULTS,
  createAuditClient,
  createAuditLog,
  createAuditService,
  createNoteSigner,
  createSanitizer,
  createSqliteAuditStore,
  grpcAuditTransport,
  keyProofAuthorizer,
  type AuditClient,
  type AuditLog,
} from '@baton/audit';
import { ReplayCache, generateKeyPair, parseScope, type AuditSink, type KeyPair, type Scope } from '@baton/core';
import { chainVerifier, createDelegation, resolveFromIssuer, type Delegation } from '@baton/delegation';
import { createGuard, createRevocationFeed, jwksFromIssuer, keyProofMetadata, type RevocationFeed } from '@baton/guard';
import { createIdentity, type Identity } from '@baton/identity';
import { createIssuer, memoryKeyRing, type Issuer } from '@baton/issuer';
import { createClient, createServer, scopeToProto, type BatonServer, type Client } from '@baton/proto';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import {
  AddOrchestratorRequestSchema,
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  IdentityService,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase, type SqlDatabase } from '@baton/store';

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
  /** SQLite durability of the authority's store. Default `FULL` (the store's default); `NORMAL` only for diagnosis. */
  readonly synchronous?: 'FULL' | 'NORMAL';
}

/** The running authority and what the benchmarks need from it. */
export interface BenchAuthority {
  /** `127.0.0.1:<port>`: identity, issuer, delegation (and audit) services. */
  readonly address: string;
  readonly issuerClient: Client<typeof IssuerService>;
  /** The audit log behind the AuditService (undefined without audit). */
  readonly auditLog: AuditLog | undefined;
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
    const db: SqlDatabase = await openDatabase(`sqlite:${path.join(dir, 'baton.db')}`, options.synchronous ? { synchronous: options.synchronous } : {});
    closers.push(() => db.close());
    const operatorKey = generateKeyPair();
    const orchestratorKey = generateKeyPair();
    const identityKey = generateKeyPair();
    const delegationKey = generateKeyPair();
    const auditSourceKey = generateKeyPair();
    const operators = new Map([[operatorKey.thumbprint, 'bench-operator']]);

    const server: BatonServer = createServer({
      onInternalError: (err, ctx) => process.stderr.write(`[bench authority] internal error in ${ctx.method}: ${(err as Error)?.stack ?? String(err)}\n`),
    });
    closers.push(() => server.shutdown(0));
    const port = await server.listen('127.0.0.1:0');
    const address = `127.0.0.1:${port}`;

    let auditLog: AuditLog | undefined;
    let auditClient: AuditClient | undefined;
    if (withAudit) {
      const store = await createSqliteAuditStore({ path: path.join(dir, 'audit.db') });
      closers.push(() => store.close());
      const origin = 'baton.local/audit';
      auditLog = createAuditLog({ store, signer: createNoteSigner(origin, generateKeyPair()), origin, sanitizer: createSanitizer({ key: randomBytes(32) }) });
      const log = auditLog;
      closers.push(() => log.close());
      server.addService(
        AuditService,
        createAuditService(auditLog, {
          authorizeAppend: keyProofAuthorizer({ isAllowed: (jkt) => jkt === auditSourceKey.thumbprint, replayCache: new ReplayCache({ maxEntries: 100_000 }) }),
        }),
      );
      auditClient = await createAuditClient({
        transport: grpcAuditTransport({ target: address, keyPair: auditSourceKey }),
        spoolDir: path.join(dir, 'spool'),
        source: 'authority',
        maxBatch: AUDIT_CLIENT_DEFAULTS.maxBatch,
      });
      const client = auditClient;
      closers.push(() => client.close());
    }
    const audit: AuditSink | undefined = auditClient;

    const issuer: Issuer = await createIssuer({
      db,
      keyRing: memoryKeyRing(),
      issuer: ISSUER,
      trustDomain: TRUST_DOMAIN,
      operators,
      services: new Map([
        [identityKey.thumbprint, 'identity' as const],
        [delegationKey.thumbprint, 'delegation' as const],
      ]),
      ...(audit ? { audit } : {}),
    });
    closers.push(() => issuer.close());
    server.addService(IssuerService, issuer.service);

    const issuerClient = createClient(IssuerService, address);
    closers.push(() => issuerClient.close());
    const feed: RevocationFeed = createRevocationFeed({ client: issuerClient });
    closers.push(() => feed.close());
    const identity: Identity = await createIdentity({
      db,
      trustDomain: TRUST_DOMAIN,
      issuer: ISSUER,
      issuerClient,
      serviceKey: identityKey,
      operators,
      services: new Map([[delegationKey.thumbprint, 'delegation']]),
      guard: createGuard({ audience: ISSUER, issuer: ISSUER, keys: jwksFromIssuer(issuerClient), revocation: feed }),
      ...(audit ? { audit } : {}),
    });
    closers.push(() => identity.close());
    server.addService(IdentityService, identity.service);

    const identityClient = createClient(IdentityService, address);
    closers.push(() => identityClient.close());
    const delegation: Delegation = await createDelegation({
      db,
      issuer: ISSUER,
      issuerClient,
      identityClient,
      serviceKey: delegationKey,
      guard: createGuard({
        audience: ISSUER,
        issuer: ISSUER,
        keys: jwksFromIssuer(issuerClient),
        revocation: feed,
        chain: chainVerifier({ resolve: resolveFromIssuer(issuerClient) }),
      }),
      ...(audit ? { audit } : {}),
    });
    closers.push(() => delegation.close());
    server.addService(DelegationService, delegation.service);
    await feed.ready(10_000);

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
      auditLog,
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
