/**
 * Test helper: the real identity and issuer services in-process over gRPC on port 0,
 * backed by a temporary SQLite file, plus an operator and an orchestrator that mint
 * launch tokens, and a guarded "payments" resource server. Excluded from the build.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { create, createFileRegistry, toBinary } from '@bufbuild/protobuf';
import type { DescMessage, MessageInitShape } from '@bufbuild/protobuf';
import type { GenMessage, GenService } from '@bufbuild/protobuf/codegenv2';
import { FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { generateKeyPair, parseScope, systemClock } from '@baton/core';
import type { Clock, KeyPair, Scope } from '@baton/core';
import { createClient, createServer, scopeToProto } from '@baton/proto';
import type { BatonServer, CallContext, Client } from '@baton/proto';
import {
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  AddOrchestratorRequestSchema,
  IdentityService,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { createGuard, createRevocationFeed, decisionOf, guardGrpcService, jwksFromIssuer, keyProofMetadata } from '@baton/guard';
import type { Decision, Guard, RevocationFeed } from '@baton/guard';
import { createIdentity } from '@baton/identity';
import type { IdentityCa } from '@baton/identity';
import { createIssuer, memoryKeyRing } from '@baton/issuer';
import { openDatabase } from '@baton/store';

export const TRUST_DOMAIN = 'baton.local';
export const ISSUER = 'spiffe://baton.local/authority';
export const PAYMENTS_AUDIENCE = 'payments';
export const WORKFLOW = 'expense-approval';
export const ORCHESTRATOR = 'orch-1';
export const APPROVE_PATH = '/test.v1.Payments/Approve';

/** A runtime-built resource service (no .proto file needed for a test resource). */
export type PaymentsService = GenService<{
  approve: { methodKind: 'unary'; input: GenMessage<ApproveRequest>; output: GenMessage<ApproveResponse> };
}>;
type ApproveRequest = import('@bufbuild/protobuf').Message<'test.v1.ApproveRequest'> & { invoice: string; amount: number };
type ApproveResponse = import('@bufbuild/protobuf').Message<'test.v1.ApproveResponse'> & { approvedBy: string; principal: string };

export function paymentsService(): PaymentsService {
  const file = create(FileDescriptorProtoSchema, {
    name: 'test/v1/payments.proto',
    package: 'test.v1',
    syntax: 'proto3',
    messageType: [
      {
        name: 'ApproveRequest',
        field: [
          { name: 'invoice', jsonName: 'invoice', number: 1, type: 9, label: 1 },
          { name: 'amount', jsonName: 'amount', number: 2, type: 1, label: 1 },
        ],
      },
      {
        name: 'ApproveResponse',
        field: [
          { name: 'approved_by', jsonName: 'approvedBy', number: 1, type: 9, label: 1 },
          { name: 'principal', jsonName: 'principal', number: 2, type: 9, label: 1 },
        ],
      },
    ],
    service: [{ name: 'Payments', method: [{ name: 'Approve', inputType: '.test.v1.ApproveRequest', outputType: '.test.v1.ApproveResponse' }] }],
  });
  return createFileRegistry(file, () => undefined).getService('test.v1.Payments') as unknown as PaymentsService;
}

/** Signs `request` for `method` as a key holder and calls it. */
async function keyCall<I extends DescMessage, O>(
  clock: Clock,
  keyPair: KeyPair,
  schema: I,
  method: string,
  request: MessageInitShape<I>,
  call: (req: MessageInitShape<I>, opts: { metadata: Record<string, string> }) => Promise<O>,
): Promise<O> {
  const bytes = toBinary(schema, create(schema, request));
  return call(request, { metadata: keyProofMetadata(keyPair, method, bytes, clock.now()) });
}

export interface TestAuthority {
  /** `127.0.0.1:<port>` serving IdentityService and IssuerService. */
  readonly address: string;
  readonly issuerClient: Client<typeof IssuerService>;
  /** Mints a launch token for `task` (orchestrator call). */
  launchToken(task: string, opts?: { scopes?: readonly (string | Scope)[]; audiences?: readonly string[] }): Promise<string>;
  close(): Promise<void>;
}

/** Starts identity + issuer sharing `clock` and one SQLite file. */
export async function startAuthority(clock: Clock, policy: { maxRenewals?: number; tokenTtlSeconds?: number; ca?: IdentityCa } = {}): Promise<TestAuthority> {
  const dir = mkdtempSync(join(tmpdir(), 'baton-agent-'));
  const db = await openDatabase(`sqlite:${join(dir, 'baton.db')}`);
  const operatorKey = generateKeyPair();
  const orchestratorKey = generateKeyPair();
  const identityKey = generateKeyPair();
  const operators = new Map([[operatorKey.thumbprint, 'op']]);
  const issuer = await createIssuer({
    db,
    keyRing: memoryKeyRing({ clock }),
    issuer: ISSUER,
    trustDomain: TRUST_DOMAIN,
    operators,
    services: new Map([[identityKey.thumbprint, 'identity' as const]]),
    clock,
    pruneIntervalMs: 0,
    keepAliveMs: 200,
  });
  const server: BatonServer = createServer({ tracing: false });
  server.addService(IssuerService, issuer.service);
  const port = await server.listen('127.0.0.1:0');
  const address = `127.0.0.1:${port}`;
  const issuerClient = createClient(IssuerService, address, { tracing: false });
  const identityGuard = createGuard({ audience: ISSUER, issuer: ISSUER, keys: jwksFromIssuer(issuerClient, { clock }), clock });
  const identity = await createIdentity({
    db,
    trustDomain: TRUST_DOMAIN,
    issuer: ISSUER,
    issuerClient,
    serviceKey: identityKey,
    operators,
    guard: identityGuard,
    clock,
    sweepIntervalMs: 0,
    ...(policy.ca ? { ca: policy.ca } : {}),
  });
  server.addService(IdentityService, identity.service);
  const identityClient = createClient(IdentityService, address, { tracing: false });

  const ttl = policy.tokenTtlSeconds ?? 300;
  await keyCall(clock, operatorKey, CreateWorkflowRequestSchema, '/baton.identity.v1.IdentityService/CreateWorkflow', {
    id: WORKFLOW,
    policy: {
      scopeCeiling: ['approve:payments', 'read:invoices'].map((s) => scopeToProto(parseScope(s))),
      defaultTokenTtlSeconds: ttl,
      maxTokenTtlSeconds: ttl,
      maxTaskTtlSeconds: 3600,
      maxRenewals: policy.maxRenewals ?? 100,
      maxDelegationDepth: 5,
      heartbeat: { intervalSeconds: 30, missesBeforeFlag: 3 },
    },
  }, (r, o) => identityClient.createWorkflow(r, o));
  await keyCall(clock, operatorKey, AddOrchestratorRequestSchema, '/baton.identity.v1.IdentityService/AddOrchestrator', {
    id: ORCHESTRATOR,
    publicKey: orchestratorKey.rawPublicKey,
    workflowIds: [WORKFLOW],
  }, (r, o) => identityClient.addOrchestrator(r, o));

  return {
    address,
    issuerClient,
    async launchToken(task, opts = {}) {
      const res = await keyCall(clock, orchestratorKey, CreateLaunchTokenRequestSchema, '/baton.identity.v1.IdentityService/CreateLaunchToken', {
        workflowId: WORKFLOW,
        taskId: task,
        principal: 'user:vp@acme.example',
        scopes: (opts.scopes ?? []).map((s) => scopeToProto(parseScope(s))),
        audiences: [...(opts.audiences ?? [PAYMENTS_AUDIENCE])],
      }, (r, o) => identityClient.createLaunchToken(r, o));
      return res.launchToken;
    },
    async close() {
      identityClient.close();
      issuerClient.close();
      await server.shutdown(0);
      await identity.close();
      await issuer.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestResource {
  readonly address: string;
  readonly service: PaymentsService;
  readonly feed: RevocationFeed;
  /** Every decision the guard made, in order. */
  readonly decisions: Decision[];
  close(): Promise<void>;
}

/**
 * A payments server behind @baton/guard: Approve needs `approve:payments` and passes the
 * amount as an attribute. Revocations come from the issuer's feed, which runs on the
 * system clock so it stays fresh while tests move the authority's clock.
 */
export async function startPayments(authority: TestAuthority, clock: Clock): Promise<TestResource> {
  const service = paymentsService();
  const feed = createRevocationFeed({ client: authority.issuerClient, clock: systemClock });
  await feed.ready(5000);
  const decisions: Decision[] = [];
  const guard: Guard = createGuard({
    audience: PAYMENTS_AUDIENCE,
    issuer: ISSUER,
    keys: jwksFromIssuer(authority.issuerClient, { clock }),
    revocation: feed,
    clock,
    onDecision: (d) => {
      decisions.push(d);
    },
  });
  const server = createServer({ tracing: false });
  server.addService(
    service,
    guardGrpcService(guard, {
      approve: async (_req: ApproveRequest, ctx: CallContext) => {
        const d = decisionOf(ctx);
        return { approvedBy: d.subject, principal: d.principal ?? '' };
      },
    } as never, {
      service,
      toRequest: (_m, req) => ({ action: 'approve', resource: 'payments', attributes: { amount: (req as ApproveRequest).amount } }),
    }) as never,
  );
  const port = await server.listen('127.0.0.1:0');
  return {
    address: `127.0.0.1:${port}`,
    service,
    feed,
    decisions,
    async close() {
      await feed.close();
      await server.shutdown(0);
    },
  };
}

/** Resolves once `predicate` holds (polling; the feed is asynchronous). */
export async function until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

