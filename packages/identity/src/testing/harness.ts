/**
 * Test harness: a real issuer (memory key ring) and identity behind one in-process gRPC
 * server on port 0, talking to each other over gRPC, over SQLite (temp file) or
 * PostgreSQL (per-run schema), with a manual clock shared by everything.
 */
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import {
  BatonError,
  generateKeyPair,
  manualClock,
  registrationMessage,
  signBytes,
  type AuditRecord,
  type KeyPair,
  type ManualClock,
} from '@baton/core';
import { createGuard, dpopMetadata, jwksFromIssuer, keyProofMetadata, type MethodRef } from '@baton/guard';
import { createIssuer, memoryKeyRing, type Issuer } from '@baton/issuer';
import { createClient, createServer, type BatonServer, type Client } from '@baton/proto';
import {
  AddOrchestratorRequestSchema,
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  IdentityService,
  type RegisterRequestSchema,
  type RegisterResponse,
  type WorkflowPolicySchema,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { SqlDatabase } from '@baton/store';
import { TEST_PG_URL, TEST_STORES, openTestStore, type TestStore, type TestStoreKind } from '@baton/store/testing';
import { createIdentity, type Identity } from '../create-identity.js';
import type { IdentityOptions } from '../options.js';

export const ISSUER = 'spiffe://baton.local/authority';
export const TD = 'baton.local';
export const PG_URL = TEST_PG_URL;
export const STORES = TEST_STORES;
export type StoreKind = TestStoreKind;

/** The default workflow's ceiling. */
export const CEILING = [
  { action: 'read', resource: 'invoice' },
  { action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } },
];

/** Opens a fresh store; `cleanup` drops it. */
export const openStore = (kind: StoreKind, label: string): Promise<TestStore> => openTestStore(kind, 'identity', label, { max: 20 });

/** An agent key plus what a test needs to register it. */
export interface RegisterArgs {
  readonly key?: KeyPair;
  readonly nonce?: Uint8Array;
  readonly over?: Partial<MessageInitShape<typeof RegisterRequestSchema>>;
}

export interface Harness {
  readonly db: SqlDatabase;
  readonly clock: ManualClock;
  readonly audit: AuditRecord[];
  readonly counts: { replays: number; misses: number };
  /** Set to make identity's next N calls of an issuer method fail with ERR_UNAVAILABLE. */
  readonly faults: { revoke: number; issue: number };
  readonly identity: Identity;
  readonly issuer: Issuer;
  readonly client: Client<typeof IdentityService>;
  readonly issuerClient: Client<typeof IssuerService>;
  readonly server: BatonServer;
  readonly operator: KeyPair;
  readonly orchestrator: KeyPair;
  readonly stranger: KeyPair;
  /** Key-proof metadata over the exact bytes of `request`. */
  keyProof<M extends DescMessage>(key: KeyPair, method: MethodRef, schema: M, request: MessageInitShape<M>): Record<string, string>;
  dpop(key: KeyPair, token: string, method: MethodRef): Record<string, string>;
  createWorkflow(id: string, policy?: Partial<MessageInitShape<typeof WorkflowPolicySchema>>): Promise<void>;
  /** Adds orchestrator `id` (key `key`, default the harness orchestrator) for `workflows`. */
  addOrchestrator(id: string, workflows: string[], key?: KeyPair): Promise<void>;
  launchToken(over?: Partial<MessageInitShape<typeof CreateLaunchTokenRequestSchema>>, as?: KeyPair): Promise<string>;
  nonce(): Promise<Uint8Array>;
  /** A correctly signed RegisterRequest (fresh key and nonce unless given), with overrides. */
  registerRequest(launchToken: string, args?: RegisterArgs): Promise<{ req: MessageInitShape<typeof RegisterRequestSchema>; key: KeyPair }>;
  register(launchToken: string, args?: RegisterArgs): Promise<RegisterResponse & { key: KeyPair }>;
  close(): Promise<void>;
}

export async function startHarness(kind: StoreKind, label: string, options: Partial<IdentityOptions> = {}): Promise<Harness> {
  const store = await openStore(kind, label);
  const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  const stranger = generateKeyPair();
  const serviceKey = generateKeyPair();
  const audit: AuditRecord[] = [];
  const counts = { replays: 0, misses: 0 };
  const sink = { emit: async (r: AuditRecord) => void audit.push(r) };

  const issuer = await createIssuer({
    db: store.db,
    keyRing: memoryKeyRing({ clock }),
    issuer: ISSUER,
    trustDomain: TD,
    clock,
    operators: new Map([[operator.thumbprint, 'alice']]),
    services: new Map([[serviceKey.thumbprint, 'identity']]),
    audit: sink,
    pruneIntervalMs: 0,
  });
  const server = createServer({ tracing: false });
  server.addService(IssuerService, issuer.service);
  const port = await server.listen('127.0.0.1:0');
  const issuerClient = createClient(IssuerService, `127.0.0.1:${port}`, { tracing: false });
  const client = createClient(IdentityService, `127.0.0.1:${port}`, { tracing: false });
  const keys = jwksFromIssuer(issuerClient, { clock, minRefreshIntervalMs: 0 });
  // Identity's view of the issuer, with injectable outages.
  const faults = { revoke: 0, issue: 0 };
  const identityIssuerClient = new Proxy({} as typeof issuerClient, {
    get(_t, prop) {
      const real = (issuerClient as unknown as Record<string | symbol, unknown>)[prop];
      if ((prop === 'revoke' || prop === 'issue') && typeof real === 'function') {
        return async (...args: unknown[]) => {
          if (faults[prop] > 0) {
            faults[prop]--;
            throw new BatonError('ERR_UNAVAILABLE', 'injected outage');
          }
          return (real as (...a: unknown[]) => unknown).apply(issuerClient, args);
        };
      }
      return real;
    },
  });
  const guard = createGuard({ audience: ISSUER, issuer: ISSUER, keys, clock });

  const identity = await createIdentity({
    db: store.db,
    trustDomain: TD,
    issuer: ISSUER,
    issuerClient: identityIssuerClient,
    serviceKey,
    operators: new Map([[operator.thumbprint, 'alice']]),
    guard,
    audit: sink,
    clock,
    sweepIntervalMs: 0,
    meter: { launchTokenReplay: () => void counts.replays++, heartbeatMissed: (n) => void (counts.misses += n) },
    ...options,
  });
  // Added after listen: identity needs a client of the server it is served by.
  server.addService(IdentityService, identity.service);

  const keyProof = <M extends DescMessage>(key: KeyPair, method: MethodRef, schema: M, request: MessageInitShape<M>): Record<string, string> =>
    keyProofMetadata(key, method, toBinary(schema, create(schema, request)), clock.now());

  const h: Harness = {
    db: store.db,
    clock,
    audit,
    counts,
    faults,
    identity,
    issuer,
    client,
    issuerClient,
    server,
    operator,
    orchestrator,
    stranger,
    keyProof,
    dpop: (key, token, method) => dpopMetadata(key, token, method, clock.now()),
    async createWorkflow(id, policy = {}) {
      const req = { id, policy: { scopeCeiling: CEILING, audiences: ['payments'], ...policy }, description: `workflow ${id}` } as MessageInitShape<
        typeof CreateWorkflowRequestSchema
      >;
      await client.createWorkflow(req, { metadata: keyProof(operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, req) });
    },
    async addOrchestrator(id, workflows, key = orchestrator) {
      const req = { id, publicKey: key.rawPublicKey, workflowIds: workflows };
      await client.addOrchestrator(req, { metadata: keyProof(operator, IdentityService.method.addOrchestrator, AddOrchestratorRequestSchema, req) });
    },
    async launchToken(over = {}, as = orchestrator) {
      const req = { workflowId: 'invoices', taskId: 'task-1', principal: 'user:vp@acme.example', audiences: ['payments'], ...over } as MessageInitShape<
        typeof CreateLaunchTokenRequestSchema
      >;
      const res = await client.createLaunchToken(req, {
        metadata: keyProof(as, IdentityService.method.createLaunchToken, CreateLaunchTokenRequestSchema, req),
      });
      return res.launchToken;
    },
    async nonce() {
      return (await client.getChallenge({})).nonce;
    },
    async registerRequest(launchToken, args = {}) {
      const key = args.key ?? generateKeyPair();
      const nonce = args.nonce ?? (await h.nonce());
      const signature = signBytes(registrationMessage(nonce, launchToken, key.rawPublicKey), key.privateKey);
      const req = { launchToken, publicKey: key.rawPublicKey, nonce, signature, ...args.over } as MessageInitShape<typeof RegisterRequestSchema>;
      return { key, req };
    },
    async register(launchToken, args = {}) {
      const { req, key } = await h.registerRequest(launchToken, args);
      return Object.assign(await client.register(req), { key });
    },
    async close() {
      await identity.close();
      client.close();
      issuerClient.close();
      await issuer.close();
      await server.shutdown(0);
      await store.cleanup();
    },
  };
  return h;
}

/** A harness with workflow `invoices` and orchestrator `orch-1` allowed in it. */
export async function startWithWorkflow(kind: StoreKind, label: string, options: Partial<IdentityOptions> = {}): Promise<Harness> {
  const h = await startHarness(kind, label, options);
  await h.createWorkflow('invoices');
  await h.addOrchestrator('orch-1', ['invoices']);
  return h;
}

/** The code a rejected call carries (tests assert codes, never text). */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? 'no code';
  }
  return 'resolved';
}
