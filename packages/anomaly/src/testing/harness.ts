/**
 * Test harness: a real issuer and identity (SQLite, manual clock) and the anomaly
 * responder on one in-process gRPC server, a resource server's guard with a revocation
 * feed, and the keys of an operator, the anomaly service and two reporters.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { agentSpiffeId, generateKeyPair, manualClock, randomId, type AuditRecord, type KeyPair, type ManualClock } from '@baton/core';
import {
  createGuard,
  createRevocationFeed,
  dpopMetadata,
  jwksFromIssuer,
  keyProofMetadata,
  type Decision,
  type DecisionInfo,
  type Guard,
  type MethodRef,
  type RevocationFeed,
} from '@baton/guard';
import { createIdentity, type Identity } from '@baton/identity';
import { createIssuer, memoryKeyRing, type Issuer } from '@baton/issuer';
import { createClient, createServer, type BatonServer, type Client } from '@baton/proto';
import { AnomalyService } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';
import { CreateWorkflowRequestSchema, IdentityService, type AnomalyRulesSchema } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssueRequestSchema, IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase, type SqlDatabase } from '@baton/store';
import { createAnomalyService, type Anomaly, type AnomalyServiceOptions } from '../anomaly-service.js';
import type { AnomalyRuleName } from '../rules.js';
import { issuerRevoker } from '../issuer-revoker.js';
import { workflowRulesFromIdentity } from '../rules-source.js';

export const ISSUER = 'spiffe://baton.local/authority';
export const TD = 'baton.local';
export const METHOD = '/baton.demo.v1.Payments/Approve';

/** An agent with its access token. */
export interface TestAgent {
  readonly key: KeyPair;
  readonly sub: string;
  readonly task: string;
  readonly token: string;
  readonly jti: string;
}

export interface Harness {
  readonly clock: ManualClock;
  readonly db: SqlDatabase;
  readonly issuer: Issuer;
  readonly identity: Identity;
  readonly anomaly: Anomaly;
  readonly server: BatonServer;
  readonly issuerClient: Client<typeof IssuerService>;
  readonly anomalyClient: Client<typeof AnomalyService>;
  readonly audit: AuditRecord[];
  readonly counted: { rule: AnomalyRuleName; level: string }[];
  readonly errors: unknown[];
  readonly operator: KeyPair;
  readonly anomalyKey: KeyPair;
  /** Registered reporter for audience `payments`. */
  readonly payments: KeyPair;
  /** Registered reporter for audience `inventory`. */
  readonly inventory: KeyPair;
  /** The payments resource server's guard (revocation feed on the issuer). */
  readonly guard: Guard;
  readonly feed: RevocationFeed;
  /** The resource guard's onDecision hooks (tests attach reporters here). */
  readonly hooks: ((d: Decision, i: DecisionInfo) => void)[];
  keyProof<M extends DescMessage>(key: KeyPair, method: MethodRef, schema: M, request: MessageInitShape<M>): Record<string, string>;
  createWorkflow(id: string, anomaly: MessageInitShape<typeof AnomalyRulesSchema>): Promise<void>;
  /** Issues a token (aud payments + the authority) to a fresh agent of `task` in workflow `wf`. */
  newAgent(wf: string, task?: string): Promise<TestAgent>;
  /** A DPoP-checked call through the resource guard. */
  call(agent: TestAgent, request: { action: string; resource: string; attributes?: Record<string, number> }, over?: { proofKey?: KeyPair }): ReturnType<Guard['check']>;
  /** The token's state at the issuer: `active` or its inactive code. */
  state(token: string): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(options: Partial<AnomalyServiceOptions> = {}): Promise<Harness> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-anomaly-'));
  const db = await openDatabase(`sqlite:${path.join(dir, 'authority.db')}`, { synchronous: 'NORMAL' });
  const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const operator = generateKeyPair();
  const identityKey = generateKeyPair();
  const anomalyKey = generateKeyPair();
  const payments = generateKeyPair();
  const inventory = generateKeyPair();
  const audit: AuditRecord[] = [];
  const counted: { rule: AnomalyRuleName; level: string }[] = [];
  const errors: unknown[] = [];
  const sink = { emit: async (r: AuditRecord) => void audit.push(r) };
  const operators = new Map([[operator.thumbprint, 'alice']]);

  const issuer = await createIssuer({
    db,
    keyRing: memoryKeyRing({ clock }),
    issuer: ISSUER,
    trustDomain: TD,
    clock,
    operators,
    services: new Map([
      [identityKey.thumbprint, 'identity'],
      [anomalyKey.thumbprint, 'anomaly'],
    ]),
    audit: sink,
    pruneIntervalMs: 0,
    keepAliveMs: 50,
  });
  const server = createServer({ tracing: false });
  server.addService(IssuerService, issuer.service);
  const address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  const issuerClient = createClient(IssuerService, address, { tracing: false });
  const identityClient = createClient(IdentityService, address, { tracing: false });
  const anomalyClient = createClient(AnomalyService, address, { tracing: false });
  const keys = jwksFromIssuer(issuerClient, { clock, minRefreshIntervalMs: 0 });

  const identity = await createIdentity({
    db,
    trustDomain: TD,
    issuer: ISSUER,
    issuerClient,
    serviceKey: identityKey,
    operators,
    services: new Map([[anomalyKey.thumbprint, 'anomaly']]),
    guard: createGuard({ audience: ISSUER, issuer: ISSUER, keys, clock }),
    clock,
    sweepIntervalMs: 0,
  });
  server.addService(IdentityService, identity.service);

  const anomaly = createAnomalyService({
    issuer: ISSUER,
    keys,
    rulesFor: workflowRulesFromIdentity({ client: identityClient, serviceKey: anomalyKey, clock }),
    revoke: async (a) => void (await issuerRevoker({ client: issuerClient, serviceKey: anomalyKey, clock })(a)),
    introspect: async (token) => (await issuerClient.introspect({ token })).inactiveCode || undefined,
    reporters: new Map([
      [payments.thumbprint, { id: 'payments', audiences: ['payments'] }],
      [inventory.thumbprint, { id: 'inventory', audiences: ['inventory'] }],
    ]),
    audit: sink,
    clock,
    meter: { anomalyRevocation: (rule, level) => void counted.push({ rule, level }) },
    onError: (e) => void errors.push(e),
    ...options,
  });
  server.addService(AnomalyService, anomaly.service);

  const feed = createRevocationFeed({ client: issuerClient, clock, minReconnectDelayMs: 5, maxReconnectDelayMs: 20 });
  await feed.ready(5_000);
  const hooks: ((d: Decision, i: DecisionInfo) => void)[] = [];
  const guard = createGuard({ audience: 'payments', issuer: ISSUER, keys, revocation: feed, clock, onDecision: (d, i) => hooks.forEach((f) => f(d, i)) });

  const keyProof = <M extends DescMessage>(key: KeyPair, method: MethodRef, schema: M, request: MessageInitShape<M>) =>
    keyProofMetadata(key, method, toBinary(schema, create(schema, request)), clock.now());

  const h: Harness = {
    clock,
    db,
    issuer,
    identity,
    anomaly,
    server,
    issuerClient,
    anomalyClient,
    audit,
    counted,
    errors,
    operator,
    anomalyKey,
    payments,
    inventory,
    guard,
    feed,
    hooks,
    keyProof,
    async createWorkflow(id, rules) {
      const req: MessageInitShape<typeof CreateWorkflowRequestSchema> = {
        id,
        policy: { scopeCeiling: [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } }], anomaly: rules },
      };
      await identityClient.createWorkflow(req, { metadata: keyProof(operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, req) });
    },
    async newAgent(wf, task = 'task-1') {
      const key = generateKeyPair();
      const iid = randomId(16);
      const sub = agentSpiffeId(TD, 'orch-1', task, iid);
      const req: MessageInitShape<typeof IssueRequestSchema> = {
        subject: sub,
        workflowId: wf,
        orchestrationId: 'orch-1',
        taskId: task,
        instanceId: iid,
        principal: 'user:vp@acme.example',
        scopes: [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } }],
        audiences: ['payments'],
        keyThumbprint: key.thumbprint,
      };
      const res = await issuerClient.issue(req, { metadata: keyProof(identityKey, IssuerService.method.issue, IssueRequestSchema, req) });
      return { key, sub, task, token: res.accessToken, jti: res.jti };
    },
    call(agent, request, over = {}) {
      const md = dpopMetadata(over.proofKey ?? agent.key, agent.token, METHOD, clock.now());
      return guard.check({ token: agent.token, proof: md.dpop, htm: 'POST', htu: METHOD, request });
    },
    async state(token) {
      const r = await issuerClient.introspect({ token });
      return r.active ? 'active' : r.inactiveCode;
    },
    async close() {
      await feed.close();
      await anomaly.close();
      await identity.close();
      await issuer.close();
      issuerClient.close();
      identityClient.close();
      anomalyClient.close();
      await server.shutdown(0);
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
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
