/**
 * Test harness: an issuer behind a real in-process gRPC server (port 0) over SQLite (a
 * file in a temp dir) or PostgreSQL (a per-run schema), with a manual clock and the keys
 * of an operator, the identity and delegation services, and a stranger.
 */
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import {
  BatonError,
  agentSpiffeId,
  generateKeyPair,
  manualClock,
  randomId,
  type AuditRecord,
  type KeyPair,
  type ManualClock,
} from '@baton/core';
import { dpopMetadata, keyProofMetadata, type MethodRef } from '@baton/guard';
import { createClient, createServer, type BatonServer, type Client } from '@baton/proto';
import { IssueRequestSchema, IssuerService, type IssueResponse } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { SqlDatabase } from '@baton/store';
import { TEST_PG_URL, TEST_STORES, openTestStore, type TestStore, type TestStoreKind } from '@baton/store/testing';
import { createIssuer, type Issuer } from '../create-issuer.js';
import { memoryKeyRing, type KeyRing } from '../key-ring.js';
import type { IssuerOptions } from '../options.js';

export const ISSUER = 'spiffe://baton.local/authority';
export const TD = 'baton.local';
export const PG_URL = TEST_PG_URL;

/** The two stores every service test runs against. */
export const STORES = TEST_STORES;
export type StoreKind = TestStoreKind;

/** Opens a fresh store; `cleanup` drops it. */
export const openStore = (kind: StoreKind, label: string): Promise<TestStore> => openTestStore(kind, 'issuer', label);

/** An agent as the tests see it. */
export interface TestAgent {
  readonly key: KeyPair;
  readonly sub: string;
  readonly orch: string;
  readonly task: string;
  readonly iid: string;
}

export interface Harness {
  readonly db: SqlDatabase;
  readonly clock: ManualClock;
  readonly issuer: Issuer;
  readonly client: Client<typeof IssuerService>;
  readonly server: BatonServer;
  readonly keyRing: KeyRing;
  readonly audit: AuditRecord[];
  readonly operator: KeyPair;
  readonly identity: KeyPair;
  readonly delegation: KeyPair;
  readonly stranger: KeyPair;
  /** Metadata of a key-holder call for `request` (its exact bytes are signed). */
  keyProof<M extends DescMessage>(key: KeyPair, method: MethodRef, schema: M, request: MessageInitShape<M>): Record<string, string>;
  /** Metadata of an agent call. */
  dpop(agent: TestAgent, token: string, method: MethodRef): Record<string, string>;
  newAgent(task?: string): TestAgent;
  /** Issue through gRPC as the identity service (override any field). */
  issue(agent: TestAgent, over?: Partial<MessageInitShape<typeof IssueRequestSchema>>, as?: KeyPair): Promise<IssueResponse>;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<IssuerOptions, 'db' | 'clock' | 'operators' | 'services'>> {
  readonly keyRing?: KeyRing;
  /** An already open store (a second replica on the same database); closed with the harness. */
  readonly store?: { db: SqlDatabase; cleanup(): Promise<void> };
}

export async function startHarness(kind: StoreKind, label: string, options: HarnessOptions = {}): Promise<Harness> {
  const { store: given, ...issuerOptions } = options;
  const store = given ?? (await openStore(kind, label));
  const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const keyRing = issuerOptions.keyRing ?? memoryKeyRing({ clock });
  const operator = generateKeyPair();
  const identity = generateKeyPair();
  const delegation = generateKeyPair();
  const stranger = generateKeyPair();
  const audit: AuditRecord[] = [];
  const issuer = await createIssuer({
    pruneIntervalMs: 0,
    ...issuerOptions,
    db: store.db,
    keyRing,
    issuer: ISSUER,
    trustDomain: TD,
    clock,
    operators: new Map([[operator.thumbprint, 'alice']]),
    services: new Map([
      [identity.thumbprint, 'identity'],
      [delegation.thumbprint, 'delegation'],
    ]),
    audit: { emit: async (r) => void audit.push(checkedAudit(r)) },
  });
  const server = createServer({ tracing: false });
  server.addService(IssuerService, issuer.service);
  const port = await server.listen('127.0.0.1:0');
  const client = createClient(IssuerService, `127.0.0.1:${port}`, { tracing: false });

  const h: Harness = {
    db: store.db,
    clock,
    issuer,
    client,
    server,
    keyRing: issuer.keyRing,
    audit,
    operator,
    identity,
    delegation,
    stranger,
    keyProof(key, method, schema, request) {
      return keyProofMetadata(key, method, toBinary(schema, create(schema, request)), clock.now());
    },
    dpop(agent, token, method) {
      return dpopMetadata(agent.key, token, method, clock.now());
    },
    newAgent(task = 'task-1') {
      const key = generateKeyPair();
      const iid = randomId(16);
      return { key, orch: 'orch-1', task, iid, sub: agentSpiffeId(TD, 'orch-1', task, iid) };
    },
    async issue(agent, over = {}, as = identity) {
      const req: MessageInitShape<typeof IssueRequestSchema> = {
        subject: agent.sub,
        workflowId: 'invoices',
        orchestrationId: agent.orch,
        taskId: agent.task,
        instanceId: agent.iid,
        principal: 'user:vp@acme.example',
        scopes: [
          { action: 'read', resource: 'invoice' },
          { action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } },
        ],
        audiences: ['payments'],
        keyThumbprint: agent.key.thumbprint,
        ...over,
      } as MessageInitShape<typeof IssueRequestSchema>;
      return client.issue(req, { metadata: h.keyProof(as, IssuerService.method.issue, IssueRequestSchema, req) });
    },
    async close() {
      client.close();
      await issuer.close();
      await server.shutdown(0);
      await store.cleanup();
    },
  };
  return h;
}

// The audit log's boundary rules (packages/audit validate-event + event-types), so an
// event the issuer emits is one the real log accepts.
const OUTCOMES: Record<string, string> = {
  'token.issued': 'allow',
  'token.renewed': 'allow',
  'token.released': 'info',
  'token.revoked': 'info',
  'key.rotated': 'info',
};
function checkedAudit(r: AuditRecord): AuditRecord {
  const bad = (why: string): never => {
    throw new BatonError('ERR_AUDIT_EVENT_INVALID', why);
  };
  if (OUTCOMES[r.type] !== r.outcome) bad(`type ${r.type} with outcome ${r.outcome}`);
  for (const k of Object.keys(r.attributes ?? {})) if (!/^[a-z][a-z0-9_.]{0,63}$/.test(k)) bad(`attribute key ${k}`);
  if (r.reasonCode !== undefined && !/^[A-Za-z0-9_.:-]{0,64}$/.test(r.reasonCode)) bad('reasonCode');
  for (const f of [r.action, r.resource]) if (f !== undefined && Buffer.byteLength(f) > 512) bad('action/resource too long');
  if (r.reasonDetail !== undefined && Buffer.byteLength(r.reasonDetail) > 2048) bad('reasonDetail too long');
  return r;
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
