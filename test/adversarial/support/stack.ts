/**
 * The system under attack, on real sockets: the authority (`startAuthority`, the same
 * code `baton-authority` runs) hosting identity, issuer, delegation, audit and anomaly
 * over gRPC, and a guarded payments resource server (chain verifier, revocation feed)
 * whose key may append to the audit log. The services and the guard emit their audit
 * records into one list, so tests see the precise reasons.
 * The test owns the data directory, so it can also read the store and the signing key —
 * which lets attacks be replayed "as if the signer were fooled".
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DescMessage, DescMethod, MessageInitShape } from '@bufbuild/protobuf';
import { generateKeyPair, importPrivateJwk, type AuditRecord, type AuditSink, type KeyPair } from '@baton/core';
import { resolveConfig, startAuthority, type Authority, type AuthorityConfig } from '@baton/authority';
import { chainVerifier, resolveFromIssuer } from '@baton/delegation';
import { auditDecisions, createGuard, createRevocationFeed, decisionOf, dpopMetadata, guardGrpcService, jwksFromIssuer } from '@baton/guard';
import { createClient, createServer, type Client } from '@baton/proto';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { IdentityService, type CreateLaunchTokenRequestSchema, type RegisterRequestSchema, type RegisterResponse } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase, type SqlDatabase } from '@baton/store';
import { auditAt, type AuditAccess } from './audit-access.js';
import { AUDIENCE, keyProof, mintLaunchToken, provision, registerRequest } from './provision.js';

export { AUDIENCE, CEILING, ORCHESTRATION, PRINCIPAL, WORKFLOW } from './provision.js';

/** A registered agent as its own process would hold it. */
export interface TestAgent {
  readonly key: KeyPair;
  readonly token: string;
  readonly spiffeId: string;
  readonly res: RegisterResponse;
}

/** What the store holds, for "no state changed" assertions. */
export type StoreState = Readonly<Record<string, number>>;

export interface Stack {
  readonly config: AuthorityConfig;
  readonly address: string;
  readonly paymentsAddress: string;
  readonly delegationAddress: string;
  readonly identity: Client<typeof IdentityService>;
  readonly issuer: Client<typeof IssuerService>;
  readonly delegation: Client<typeof DelegationService>;
  readonly payments: Client<typeof PaymentsService>;
  readonly operator: KeyPair;
  readonly orchestrator: KeyPair;
  /** Every audit record the services and the payments guard emitted. */
  readonly records: AuditRecord[];
  /** The AuditService (the authority's when hosted), with a resource key allowed to append. */
  readonly audit: AuditAccess;
  /** `baton-proof` metadata over the exact bytes of `request`. */
  keyProof<M extends DescMessage>(key: KeyPair, method: DescMethod, schema: M, request: MessageInitShape<M>): Record<string, string>;
  /** `authorization: DPoP` + `dpop` metadata for one call. */
  dpop(key: KeyPair, token: string, method: DescMethod | string): Record<string, string>;
  launchToken(over?: Partial<MessageInitShape<typeof CreateLaunchTokenRequestSchema>>): Promise<string>;
  registerRequest(launchToken: string, over?: Partial<MessageInitShape<typeof RegisterRequestSchema>>, key?: KeyPair): Promise<MessageInitShape<typeof RegisterRequestSchema>>;
  /** Mints a launch token and registers a fresh agent with it. */
  agent(task?: string, name?: string): Promise<TestAgent>;
  /** ApproveInvoice at the guarded payments server with the agent's credentials. */
  approve(agent: Pick<TestAgent, 'key' | 'token'>, amount?: number, metadata?: Record<string, string>): Promise<unknown>;
  /** The authority's active token-signing key (read from its key directory). */
  signingKey(): KeyPair;
  state(): Promise<StoreState>;
  close(): Promise<void>;
}

/** Starts the authority, delegation and a guarded resource server; provisions one workflow and orchestrator. */
export async function startStack(): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-adv-'));
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  const resource = generateKeyPair();
  const records: AuditRecord[] = [];
  const sink: AuditSink = { emit: async (r) => void records.push(r) };
  const config = resolveConfig(
    { dataDir: dir, listen: '127.0.0.1:0', operators: [{ id: 'adv-operator', jwk: operator.publicJwk }], resources: [{ id: AUDIENCE, jwk: resource.publicJwk }] },
    dir,
    {},
  );
  const authority: Authority = await startAuthority(config, { audit: sink });
  const closers: (() => unknown)[] = [() => authority.close()];
  for (const needed of ['identity', 'issuer', 'delegation', 'audit'] as const) {
    if (!authority.services.includes(needed)) throw new TypeError(`startStack: the authority does not host ${needed}`);
  }
  const track = <C extends { close(): void }>(c: C): C => {
    closers.push(() => c.close());
    return c;
  };
  const identity = track(createClient(IdentityService, authority.address, { tracing: false }));
  const issuer = track(createClient(IssuerService, authority.address, { tracing: false }));
  const keys = jwksFromIssuer(issuer);
  const feed = createRevocationFeed({ client: issuer });
  closers.push(() => feed.close());
  await Promise.all([keys.ready(), feed.ready(10_000)]);
  const db: SqlDatabase = await openDatabase(config.store);
  closers.push(() => db.close());

  // A resource server guarding payments, verifying chains, auditing every decision.
  const guard = createGuard({
    audience: AUDIENCE,
    issuer: config.issuer,
    keys,
    revocation: feed,
    chain: chainVerifier({ resolve: resolveFromIssuer(issuer) }),
    onDecision: auditDecisions(sink, { source: 'guard:payments' }),
  });
  const payServer = createServer({ tracing: false });
  payServer.addService(
    PaymentsService,
    guardGrpcService(
      guard,
      {
        async approveInvoice(req, ctx) {
          const d = decisionOf(ctx);
          return { approvalId: `ap-${req.invoiceId}`, approvedBy: d.subject, principal: d.principal, delegationDepth: d.depth, chain: [...d.agents] };
        },
        async getInvoice(req) {
          return { invoice: { id: req.invoiceId, vendor: 'acme', amount: 1 } };
        },
        async lookupVendor(req) {
          return { vendor: { id: req.vendor, name: req.vendor, verified: true } };
        },
      },
      {
        service: PaymentsService,
        toRequest: (method, req) => {
          const r = req as { invoiceId?: string; amount?: number };
          if (method === 'approveInvoice') return { action: 'approve', resource: 'invoice', id: r.invoiceId || 'inv-1', attributes: { amount: r.amount ?? 0 } };
          if (method === 'lookupVendor') return { action: 'read', resource: 'vendor' };
          return { action: 'read', resource: 'invoice', id: r.invoiceId || 'inv-1' };
        },
      },
    ),
  );
  const paymentsAddress = `127.0.0.1:${await payServer.listen('127.0.0.1:0')}`;
  closers.push(() => payServer.shutdown(0));
  const audit = auditAt(authority.address, resource, operator);
  closers.push(() => audit.close());
  const delegation = track(createClient(DelegationService, authority.address, { tracing: false }));
  const payments = track(createClient(PaymentsService, paymentsAddress, { tracing: false }));

  await provision(identity, operator, orchestrator);

  const stack: Stack = {
    config,
    address: authority.address,
    paymentsAddress,
    delegationAddress: authority.address,
    identity,
    issuer,
    delegation,
    payments,
    operator,
    orchestrator,
    records,
    audit,
    keyProof,
    dpop: (key, token, method) => dpopMetadata(key, token, method),
    launchToken: (over = {}) => mintLaunchToken(identity, orchestrator, over),
    registerRequest: (launchToken, over = {}, key = generateKeyPair()) => registerRequest(identity, launchToken, key, over),
    async agent(task, name) {
      const key = generateKeyPair();
      const lt = await stack.launchToken(task === undefined ? {} : { taskId: task });
      const res = await identity.register(await stack.registerRequest(lt, name === undefined ? {} : { name }, key));
      return { key, token: res.accessToken, spiffeId: res.spiffeId, res };
    },
    approve(agent, amount = 100, metadata) {
      return payments.approveInvoice(
        { invoiceId: 'inv-1', amount },
        { metadata: metadata ?? dpopMetadata(agent.key, agent.token, PaymentsService.method.approveInvoice) },
      );
    },
    signingKey() {
      const ringDir = path.join(config.dataDir, 'keys', 'signing');
      const ring = JSON.parse(fs.readFileSync(path.join(ringDir, 'keyring.json'), 'utf8')) as { active: string };
      return importPrivateJwk(JSON.parse(fs.readFileSync(path.join(ringDir, `${ring.active}.jwk`), 'utf8')));
    },
    async state() {
      const count = async (sql: string): Promise<number> => Number((await db.get<{ n: number }>(sql))?.n ?? 0);
      return {
        workflows: await count('SELECT COUNT(*) AS n FROM identity_workflows'),
        orchestrators: await count('SELECT COUNT(*) AS n FROM identity_orchestrators'),
        launchTokens: await count('SELECT COUNT(*) AS n FROM identity_launch_tokens'),
        launchTokensUsed: await count('SELECT COUNT(*) AS n FROM identity_launch_tokens WHERE used_at IS NOT NULL'),
        noncesUsed: await count('SELECT COUNT(*) AS n FROM identity_nonces WHERE used_at IS NOT NULL'),
        agents: await count('SELECT COUNT(*) AS n FROM identity_agents'),
        tokens: await count('SELECT COUNT(*) AS n FROM issuer_tokens'),
        activeTokens: await count("SELECT COUNT(*) AS n FROM issuer_tokens WHERE status = 'active'"),
        revocations: await count('SELECT COUNT(*) AS n FROM issuer_revocations'),
        hops: await count('SELECT COUNT(*) AS n FROM delegation_hops'),
        chains: await count('SELECT COUNT(*) AS n FROM delegation_chains'),
      };
    },
    async close() {
      for (const c of closers.reverse()) await Promise.resolve(c()).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  return stack;
}
