/**
 * The guarded resource of the soak and crash runs, in the driver's process: the demo's
 * PaymentsService behind `guardGrpcService`, trusting only the authority's keys (GetKeys),
 * its revocation stream and offline chain verification. Every decision goes to the audit
 * log through a durable client signed by the resource's key, as a real resource server's
 * would, so the log carries guard traffic too.
 */
import { createAuditClient, grpcAuditTransport, type AuditClient } from '@baton/audit';
import { BatonError, randomId, type KeyPair, type ScopeRequest } from '@baton/core';
import { chainVerifier, resolveFromIssuer } from '@baton/delegation';
import { auditDecisions, createGuard, createRevocationFeed, decisionOf, guardGrpcService, jwksFromIssuer, type RevocationFeed } from '@baton/guard';
import { createClient, createServer, type CallContext, type Client, type ServiceImpl } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';

/** Audience of the payments resource. */
export const PAYMENTS_AUDIENCE = 'payments';

/** Options of {@link startSoakPayments}. */
export interface SoakPaymentsOptions {
  /** The authority (`host:port`). */
  readonly authority: string;
  /** Token `iss`. Default `spiffe://baton.local/authority`. */
  readonly issuer?: string;
  /** The resource's key, listed under `resources` in the authority config. */
  readonly resourceKey: KeyPair;
  /** Spool of the decision audit client. */
  readonly spoolDir: string;
}

/** A running guarded payments server. */
export interface SoakPayments {
  readonly address: string;
  readonly feed: RevocationFeed;
  readonly audit: AuditClient;
  /** Resolves once the guard's revocation view has applied `sequence` (ERR_TIMEOUT-like Error after `timeoutMs`). */
  waitForSequence(sequence: bigint, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

function scopeRequest(method: string, request: unknown): ScopeRequest | undefined {
  switch (method) {
    case 'approveInvoice': {
      const amount = (request as { amount?: unknown }).amount;
      if (typeof amount !== 'number' || !Number.isFinite(amount)) throw new BatonError('ERR_INVALID_ARGUMENT', 'amount must be a finite number');
      return { action: 'approve', resource: 'payments', attributes: { amount } };
    }
    case 'getInvoice':
      return { action: 'read', resource: 'invoices' };
    case 'lookupVendor':
      return { action: 'read', resource: 'vendors' };
    default:
      return undefined;
  }
}

const impl: ServiceImpl<typeof PaymentsService> = {
  approveInvoice: async (_req, ctx: CallContext) => {
    const d = decisionOf(ctx);
    return { approvalId: randomId(8), approvedBy: d.subject, principal: d.principal, delegationDepth: d.depth, chain: [...d.agents] };
  },
  getInvoice: async (req) => ({ invoice: { id: req.invoiceId, vendor: 'acme-supplies', amount: 100, description: 'soak' } }),
  lookupVendor: async (req) => ({ vendor: { id: req.vendor, name: req.vendor, verified: true } }),
};

/** Starts the guarded payments server on 127.0.0.1:0 once keys and revocations are loaded. */
export async function startSoakPayments(options: SoakPaymentsOptions): Promise<SoakPayments> {
  const issuerName = options.issuer ?? 'spiffe://baton.local/authority';
  // Short reconnect backoff: the crash run restarts the authority within a second or two.
  const issuer: Client<typeof IssuerService> = createClient(IssuerService, options.authority, {
    channelOptions: { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 1000 },
  });
  const keys = jwksFromIssuer(issuer);
  const feed = createRevocationFeed({ client: issuer, minReconnectDelayMs: 100, maxReconnectDelayMs: 1000 });
  await Promise.all([keys.ready(), feed.ready(10_000)]);
  const audit = await createAuditClient({
    transport: grpcAuditTransport({ target: options.authority, keyPair: options.resourceKey, maxReconnectBackoffMs: 1000 }),
    spoolDir: options.spoolDir,
    source: 'guard:payments',
  });
  const guard = createGuard({
    audience: PAYMENTS_AUDIENCE,
    issuer: issuerName,
    keys,
    revocation: feed,
    chain: chainVerifier({ resolve: resolveFromIssuer(issuer) }),
    onDecision: auditDecisions(audit, { source: 'guard:payments' }),
  });
  const server = createServer({ tracing: false });
  server.addService(PaymentsService, guardGrpcService(guard, impl, { service: PaymentsService, toRequest: scopeRequest }));
  const port = await server.listen('127.0.0.1:0');
  return {
    address: `127.0.0.1:${port}`,
    feed,
    audit,
    async waitForSequence(sequence, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (feed.sequence < sequence) {
        if (Date.now() > until) throw new Error(`revocation view stuck at ${feed.sequence}, wanted ${sequence}`);
        await new Promise((r) => setTimeout(r, 2));
      }
    },
    async close() {
      await server.shutdown(0);
      await audit.drain(5000);
      await audit.close();
      await feed.close();
      issuer.close();
    },
  };
}
