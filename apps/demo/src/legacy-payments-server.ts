#!/usr/bin/env node
/**
 * The comparison point of the exfiltration demo: the same payments API guarded the way
 * most agent deployments are today, by one static API key (`x-api-key`). Whoever presents
 * the key may do anything the API allows, from anywhere, until someone rotates it.
 *
 * Environment: `LEGACY_API_KEY`. Prints `{"event":"ready","address":...}`.
 */
import { BatonError, timingSafeEqualStr } from '@baton/core';
import { createServer } from '@baton/proto';
import type { CallContext, ServiceImpl } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { emit } from './line-protocol.js';
import { createPaymentsImpl } from './payments-service.js';
import { setupProcessTracing } from './process-tracing.js';

function checkKey(ctx: CallContext, key: string): void {
  const presented = ctx.metadata.get('x-api-key')[0];
  if (typeof presented !== 'string' || !timingSafeEqualStr(presented, key)) throw new BatonError('ERR_UNAUTHENTICATED', 'bad api key');
}

async function main(): Promise<void> {
  const tracing = setupProcessTracing('legacy-payments');
  const key = process.env['LEGACY_API_KEY'];
  if (!key) throw new TypeError('LEGACY_API_KEY must be set');
  const inner = createPaymentsImpl(() => ({ approvedBy: 'holder of the API key', principal: 'unknown', delegationDepth: 0, chain: [] }));
  const impl: ServiceImpl<typeof PaymentsService> = {
    approveInvoice: (req, ctx) => (checkKey(ctx, key), inner.approveInvoice(req, ctx)),
    lookupVendor: (req, ctx) => (checkKey(ctx, key), inner.lookupVendor(req, ctx)),
    getInvoice: (req, ctx) => (checkKey(ctx, key), inner.getInvoice(req, ctx)),
  };
  const server = createServer();
  server.addService(PaymentsService, impl);
  const port = await server.listen('127.0.0.1:0');
  process.on('SIGTERM', () => {
    void server
      .shutdown(500)
      .then(() => tracing.shutdown())
      .then(() => process.exit(0));
  });
  emit({ event: 'ready', address: `127.0.0.1:${port}`, pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`[legacy-payments] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
