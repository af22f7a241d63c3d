/**
 * End-to-end harness for delegation (issue 3): the real issuer, identity and delegation
 * services in one gRPC server on port 0 over a temporary SQLite file, talking to each
 * other over gRPC only, plus a guarded "payments" resource server that verifies every
 * hop of a delegated token offline. Agents are real @baton/agent instances, or raw key
 * holders when a test must sign what an honest SDK never would.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, createFileRegistry, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import {
  generateKeyPair,
  manualClock,
  parseScopes,
  registrationMessage,
  signBytes,
  systemClock,
  type AuditRecord,
  type KeyPair,
  type ManualClock,
  type Scope,
} from '@baton/core';
import { createAgent, type Agent } from '@baton/agent';
import { createGuard, createRevocationFeed, decisionOf, dpopMetadata, guardGrpcService, jwksFromIssuer, keyProofMetadata, type Decision, type RevocationFeed } from '@baton/guard';
import { createIdentity, type Identity } from '@baton/identity';
import { createIssuer, memoryKeyRing, type Issuer } from '@baton/issuer';
import { createClient, createServer, scopeToProto, type BatonServer, type CallContext, type Client } from '@baton/proto';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import {
  AddOrchestratorRequestSchema,
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  IdentityService,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase, type SqlDatabase } from '@baton/store';
// @baton/delegation is not yet a dependency of this test package (see the delegation
// report): its built output is imported by path until the lead adds it.
import { chainVerifier, createDelegation, resolveFromDelegation, resolveFromIssuer, type Delegation } from '../../packages/delegation/dist/index.js';

export const TD = 'baton.local';
export const ISSUER = 'spiffe://baton.local/authority';
export const PRINCIPAL = 'user:vp@acme.example';
export const WORKFLOW = 'expense-approval';
export const ORCH = 'expense-orch';
export const PAYMENTS = 'payments';
export const APPROVE_PATH = '/test.v1.Payments/Approve';

/** `approve:payments` with `max_amount ≤ max`. */
export function approve(max: number): Scope {
  return { action: 'approve', resource: 'payments', constraints: { max_amount: { max } } };
}

type ApproveRequest = import('@bufbuild/protobuf').Message<'test.v1.ApproveRequest'> & { invoice: string; amount: number };
type ApproveResponse = import('@bufbuild/protobuf').Message<'test.v1.ApproveResponse'> & { approvedBy: string; principal: string; depth: number };
/** A resource service built at runtime (no .proto file for a test resource). */
export type PaymentsService = GenService<{
  approve: { methodKind: 'unary'; input: GenMessage<ApproveRequest>; output: GenMessage<ApproveResponse> };
}>;

function paymentsService(): PaymentsService {
  const field = (name: string, jsonName: string, number: number, type: number) => ({ name, jsonName, number, type, label: 1 });
  const file = create(FileDescriptorProtoSchema, {
    name: 'test/v1/payments.proto',
    package: 'test.v1',
    syntax: 'proto3',
    messageType: [
      { name: 'ApproveRequest', field: [field('invoice', 'invoice', 1, 9), field('amount', 'amount', 2, 1)] },
      { name: 'ApproveResponse', field: [field('approved_by', 'approvedBy', 1, 9), field('principal', 'principal', 2, 9), field('depth', 'depth', 3, 13)] },
    ],
    service: [{ name: 'Payments', method: [{ name: 'Approve', inputType: '.test.v1.ApproveRequest', outputType: '.test.v1.ApproveResponse' }] }],
  });
  return createFileRegistry(file, () => undefined).getService('test.v1.Payments') as unknown as PaymentsService;
}

/** A key holder registered by hand: the test holds its private key and its token. */
export interface RawAgent {
  readonly key: KeyPair;
  readonly spiffeId: string;
  readonly token: string;
}

export interface HarnessOptions {
  /** Workflow policy overrides. */
  readonly policy?: Partial<{ maxDelegationDepth: number; allowRedelegation: boolean; allowedDelegationTargets: string[] }>;
  /** Issuer's by-reference threshold (bytes). Default 4096. */
  readonly referenceThresholdBytes?: number;
}

export interface Harness {
  readonly address: string;
  readonly clock: ManualClock;
  readonly audit: AuditRecord[];
  readonly issuer: Issuer;
  readonly delegation: Delegation;
  readonly issuerClient: Client<typeof IssuerService>;
  readonly delegationClient: Client<typeof DelegationService>;
  readonly payments: { readonly address: string; readonly service: PaymentsService; readonly decisions: Decision[]; readonly feed: RevocationFeed };
  readonly feeds: readonly RevocationFeed[];
  /** A launch token for `task` in `orchestration` (default the harness orchestration). */
  launchToken(task: string, o?: { scopes?: readonly (string | Scope)[]; orchestrator?: 'main' | 'other'; workflow?: string }): Promise<string>;
  /** An SDK agent for `task` (default scopes: the workflow ceiling). */
  agent(task: string, o?: { scopes?: readonly (string | Scope)[]; name?: string; orchestrator?: 'main' | 'other' }): Promise<Agent>;
  /** A raw key holder for `task`. */
  raw(task: string, o?: { scopes?: readonly (string | Scope)[]; name?: string; orchestrator?: 'main' | 'other' }): Promise<RawAgent>;
  /** An operator call to IssuerService.Revoke; resolves to the revocation's sequence. */
  revoke(level: number, target: string): Promise<bigint>;
  /** A client of the payments resource carrying `token` and proofs by `key`. */
  paymentsAs(key: KeyPair, token: string): { approve(amount: number): Promise<ApproveResponse> };
  close(): Promise<void>;
}

/** Resolves once `predicate` holds (the revocation feeds are asynchronous). */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The code a rejected promise carries. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? `no code: ${String(err)}`;
  }
  return 'resolved';
}

export async function startHarness(o: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-delegation-'));
  const db: SqlDatabase = await openDatabase(`sqlite:${join(dir, 'baton.db')}`);
  const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const operator = generateKeyPair();
  const orchestrators = { main: generateKeyPair(), other: generateKeyPair() };
  const identityKey = generateKeyPair();
  const delegationKey = generateKeyPair();
  const operators = new Map([[operator.thumbprint, 'op']]);
  const audit: AuditRecord[] = [];
  const sink = { emit: async (r: AuditRecord) => void audit.push(r) };

  const issuer = await createIssuer({
    db,
    keyRing: memoryKeyRing({ clock }),
    issuer: ISSUER,
    trustDomain: TD,
    operators,
    services: new Map([
      [identityKey.thumbprint, 'identity' as const],
      [delegationKey.thumbprint, 'delegation' as const],
    ]),
    clock,
    audit: sink,
    pruneIntervalMs: 0,
    keepAliveMs: 200,
    ...(o.referenceThresholdBytes !== undefined ? { referenceThresholdBytes: o.referenceThresholdBytes } : {}),
  });
  const server: BatonServer = createServer({ tracing: false });
  server.addService(IssuerService, issuer.service);
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const issuerClient = createClient(IssuerService, address, { tracing: false });
  const identityClient = createClient(IdentityService, address, { tracing: false });
  const delegationClient = createClient(DelegationService, address, { tracing: false });
  const feeds: RevocationFeed[] = [];
  const feed = (): RevocationFeed => {
    const f = createRevocationFeed({ client: issuerClient, clock: systemClock });
    feeds.push(f);
    return f;
  };

  const identity: Identity = await createIdentity({
    db,
    trustDomain: TD,
    issuer: ISSUER,
    issuerClient,
    serviceKey: identityKey,
    operators,
    services: new Map([[delegationKey.thumbprint, 'delegation']]),
    guard: createGuard({ audience: ISSUER, issuer: ISSUER, keys: jwksFromIssuer(issuerClient, { clock, minRefreshIntervalMs: 0 }), clock }),
    clock,
    audit: sink,
    sweepIntervalMs: 0,
  });
  server.addService(IdentityService, identity.service);

  const delegationFeed = feed();
  const delegation = await createDelegation({
    db,
    issuer: ISSUER,
    issuerClient,
    identityClient,
    serviceKey: delegationKey,
    guard: createGuard({
      audience: ISSUER,
      issuer: ISSUER,
      keys: jwksFromIssuer(issuerClient, { clock, minRefreshIntervalMs: 0 }),
      clock,
      revocation: delegationFeed,
      chain: chainVerifier({ resolve: resolveFromIssuer(issuerClient) }),
    }),
    audit: sink,
    clock,
    pruneIntervalMs: 0,
  });
  server.addService(DelegationService, delegation.service);

  const keyCall = async <M extends DescMessage>(key: KeyPair, method: string, schema: M, init: MessageInitShape<M>, call: (m: MessageInitShape<M>, opts: { metadata: Record<string, string> }) => Promise<unknown>) => {
    const message = create(schema, init);
    return call(message as MessageInitShape<M>, { metadata: keyProofMetadata(key, method, toBinary(schema, message), clock.now()) });
  };
  const ceiling = [approve(10000), { action: 'read', resource: 'invoices' }];
  const workflows = [WORKFLOW, 'partner-payments'];
  for (const id of workflows) {
    await keyCall(operator, '/baton.identity.v1.IdentityService/CreateWorkflow', CreateWorkflowRequestSchema, {
      id,
      policy: {
        scopeCeiling: parseScopes(ceiling).map(scopeToProto),
        defaultTokenTtlSeconds: 300,
        maxTokenTtlSeconds: 300,
        maxTaskTtlSeconds: 3600,
        maxDelegationDepth: o.policy?.maxDelegationDepth ?? 5,
        allowRedelegation: o.policy?.allowRedelegation ?? true,
        allowedDelegationTargets: o.policy?.allowedDelegationTargets ?? [],
        audiences: [PAYMENTS],
      },
    }, (r, m) => identityClient.createWorkflow(r, m));
  }
  await keyCall(operator, '/baton.identity.v1.IdentityService/AddOrchestrator', AddOrchestratorRequestSchema, { id: ORCH, publicKey: orchestrators.main.rawPublicKey, workflowIds: workflows }, (r, m) => identityClient.addOrchestrator(r, m));
  await keyCall(operator, '/baton.identity.v1.IdentityService/AddOrchestrator', AddOrchestratorRequestSchema, { id: 'partner-orch', publicKey: orchestrators.other.rawPublicKey, workflowIds: workflows }, (r, m) => identityClient.addOrchestrator(r, m));

  // The payments resource: its own guard, verifying chains offline (by-reference chains via GetChain).
  const service = paymentsService();
  const paymentsFeed = feed();
  const decisions: Decision[] = [];
  const paymentsGuard = createGuard({
    audience: PAYMENTS,
    issuer: ISSUER,
    keys: jwksFromIssuer(issuerClient, { clock, minRefreshIntervalMs: 0 }),
    clock,
    revocation: paymentsFeed,
    chain: chainVerifier({ resolve: resolveFromDelegation(delegationClient) }),
    onDecision: (d) => void decisions.push(d),
  });
  const paymentsServer = createServer({ tracing: false });
  paymentsServer.addService(
    service,
    guardGrpcService(paymentsGuard, {
      approve: async (_req: ApproveRequest, ctx: CallContext) => {
        const d = decisionOf(ctx);
        return { approvedBy: d.subject, principal: d.principal, depth: d.depth };
      },
    } as never, {
      service,
      toRequest: (_m, req) => ({ action: 'approve', resource: 'payments', attributes: { max_amount: (req as ApproveRequest).amount } }),
    }) as never,
  );
  const paymentsPort = await paymentsServer.listen('127.0.0.1:0');
  const paymentsAddress = `127.0.0.1:${paymentsPort}`;
  await Promise.all(feeds.map((f) => f.ready(5000)));

  const launchToken: Harness['launchToken'] = async (task, lo = {}) => {
    const res = (await keyCall(orchestrators[lo.orchestrator ?? 'main'], '/baton.identity.v1.IdentityService/CreateLaunchToken', CreateLaunchTokenRequestSchema, {
      workflowId: lo.workflow ?? WORKFLOW,
      taskId: task,
      principal: PRINCIPAL,
      scopes: parseScopes(lo.scopes ?? ceiling).map(scopeToProto),
      audiences: [PAYMENTS],
    }, (r, m) => identityClient.createLaunchToken(r, m))) as { launchToken: string };
    return res.launchToken;
  };

  const clients: { close(): void }[] = [issuerClient, identityClient, delegationClient];
  const agents: Agent[] = [];
  return {
    address,
    clock,
    audit,
    issuer,
    delegation,
    issuerClient,
    delegationClient,
    payments: { address: paymentsAddress, service, decisions, feed: paymentsFeed },
    feeds,
    launchToken,
    async agent(task, ao = {}) {
      const a = await createAgent({ authority: address, launchToken: await launchToken(task, ao), clock, heartbeat: false, env: {}, ...(ao.name ? { name: ao.name } : {}) });
      agents.push(a);
      return a;
    },
    async raw(task, ao = {}) {
      const lt = await launchToken(task, ao);
      const key = generateKeyPair();
      const { nonce } = await identityClient.getChallenge({});
      const res = await identityClient.register({
        launchToken: lt,
        publicKey: key.rawPublicKey,
        nonce,
        signature: signBytes(registrationMessage(nonce, lt, key.rawPublicKey), key.privateKey),
        ...(ao.name ? { name: ao.name } : {}),
      });
      return { key, spiffeId: res.spiffeId, token: res.accessToken };
    },
    async revoke(level, target) {
      const res = (await keyCall(operator, '/baton.issuer.v1.IssuerService/Revoke', RevokeRequestSchema, { level, target, reason: 1 }, (r, m) => issuerClient.revoke(r, m))) as { sequence: bigint };
      return res.sequence;
    },
    paymentsAs(key, token) {
      const client = createClient(service, paymentsAddress, { tracing: false });
      clients.push(client);
      return { approve: (amount) => client.approve({ invoice: 'inv-7', amount }, { metadata: dpopMetadata(key, token, APPROVE_PATH, clock.now()) }) };
    },
    async close() {
      await Promise.all(agents.map((a) => a.release().catch(() => undefined)));
      await Promise.all(feeds.map((f) => f.close()));
      for (const c of clients) c.close();
      await paymentsServer.shutdown(0);
      await server.shutdown(0);
      await delegation.close();
      await identity.close();
      await issuer.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
