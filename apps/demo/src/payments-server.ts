#!/usr/bin/env node
/**
 * The demo's guarded payments resource server, as its own process:
 * `node payments-server.js` with `BATON_AUTHORITY` (issuer host:port). It trusts only the
 * authority's public keys (fetched with GetKeys) and its own checks: every call runs the
 * full guard pipeline in this process, with the revocation view pushed by the issuer.
 *
 * stdout (JSON lines): `{"event":"ready","address":...}`, then replies to the driver's
 * commands (`sync`: wait until the revocation view has applied a sequence; `drain-audit`:
 * wait until every decision reached the audit log).
 * With `BATON_AUDIT` (and `BATON_PAYMENTS_KEY_FILE`, `BATON_AUDIT_SPOOL`) every decision is
 * also audited, with the precise reason the caller never sees, signed by the server's own
 * key (listed under `resources` in the authority config).
 */
import { createClient, createServer } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { chainVerifier, resolveFromIssuer } from '@baton/delegation';
import { auditDecisions, createGuard, createRevocationFeed, guardGrpcService, jwksFromIssuer } from '@baton/guard';
import { readKeyFile } from '@baton/authority';
import { openAuditSink } from './audit-sink.js';
import { emit, serveCommands } from './line-protocol.js';
import type { Command } from './line-protocol.js';
import { createPaymentsImpl, paymentsScopeRequest } from './payments-service.js';
import { setupProcessTracing } from './process-tracing.js';

/** Payments messages are tiny: anything above 64 KiB is refused before parsing. */
const MAX_MESSAGE_BYTES = 64 * 1024;

function env(name: string, fallback?: string): string {
  const v = process.env[name] ?? fallback;
  if (!v) throw new TypeError(`${name} must be set`);
  return v;
}

async function main(): Promise<void> {
  const tracing = setupProcessTracing('payments');
  const authority = env('BATON_AUTHORITY');
  const audience = env('BATON_PAYMENTS_AUDIENCE', 'payments');
  const issuerName = env('BATON_ISSUER', 'spiffe://baton.local/authority');

  const issuer = createClient(IssuerService, authority);
  const keys = jwksFromIssuer(issuer);
  const revocation = createRevocationFeed({ client: issuer, onError: (err) => process.stderr.write(`[payments] revocation feed: ${String(err)}\n`) });
  await Promise.all([keys.ready(), revocation.ready(10_000)]);
  // Every decision, allow and deny with the precise reason, goes to the audit log.
  const keyFile = process.env['BATON_PAYMENTS_KEY_FILE'];
  const audit = keyFile ? await openAuditSink('guard:payments', readKeyFile(keyFile)) : undefined;
  const toAudit = audit ? auditDecisions(audit, { source: 'guard:payments' }) : undefined;
  // Delegated tokens: every hop verified offline, on every request.
  const chain = chainVerifier({ resolve: resolveFromIssuer(issuer) });
  const guard = createGuard({
    audience,
    issuer: issuerName,
    keys,
    revocation,
    chain,
    ...(toAudit ? { onDecision: toAudit } : {}),
  });

  const server = createServer({
    maxReceiveMessageBytes: MAX_MESSAGE_BYTES,
    onInternalError: (err, ctx) => process.stderr.write(`[payments] internal error in ${ctx.method}: ${String(err)}\n`),
  });
  server.addService(PaymentsService, guardGrpcService(guard, createPaymentsImpl(), { service: PaymentsService, toRequest: paymentsScopeRequest }));
  const host = env('BATON_PAYMENTS_HOST', '127.0.0.1');
  const port = await server.listen(`${host}:0`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await server.shutdown(1000);
    await audit?.drain(2000);
    await audit?.close();
    await revocation.close();
    issuer.close();
    await tracing.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  serveCommands(
    {
      // Resolves once the guard's revocation view is complete up to `sequence`, and says
      // when that happened, so the driver can show the propagation delay.
      sync: async (command: Command) => {
        const want = BigInt(String(command['sequence']));
        const started = Date.now();
        while (revocation.sequence < want) {
          if (Date.now() - started > 10_000) throw new TypeError(`revocation view did not reach ${want}`);
          await new Promise((r) => setTimeout(r, 1));
        }
        return { sequence: revocation.sequence.toString(), appliedAtMs: Date.now() };
      },
      // Resolves once every decision so far is in the audit log.
      'drain-audit': async () => ({ drained: audit ? await audit.drain(10_000) : false }),
    },
    () => void stop(),
  );
  emit({ event: 'ready', address: `${host}:${port}`, audience, pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`[payments] failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  emit({ event: 'failed', code: (err as { code?: unknown })?.code ?? null });
  process.exit(1);
});
