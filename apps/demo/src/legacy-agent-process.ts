#!/usr/bin/env node
/**
 * An agent as most are deployed today: a long-lived static API key in its environment
 * (`PAYMENTS_API_KEY`), sent with every call. Commands: `approve`, `dump`.
 *
 * Environment: `PAYMENTS_API_KEY`, `LEGACY_PAYMENTS`, `BATON_TRACE_FILE`.
 */
import { createClient } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { outcomeOf } from './call-outcome.js';
import { emit, numberField, serveCommands, stringField } from './line-protocol.js';
import { dumpThisProcess } from './memory-dump.js';
import { setupProcessTracing } from './process-tracing.js';

async function main(): Promise<void> {
  const tracing = setupProcessTracing('legacy-agent');
  const target = process.env['LEGACY_PAYMENTS'];
  if (!target || !process.env['PAYMENTS_API_KEY']) throw new TypeError('LEGACY_PAYMENTS and PAYMENTS_API_KEY must be set');
  const payments = createClient(PaymentsService, target);
  const stop = (): void => {
    payments.close();
    void tracing.shutdown().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  serveCommands(
    {
      approve: async (c) => {
        const r = await outcomeOf(() =>
          payments.approveInvoice(
            { invoiceId: stringField(c, 'invoiceId'), amount: numberField(c, 'amount'), vendor: stringField(c, 'vendor') },
            { metadata: { 'x-api-key': process.env['PAYMENTS_API_KEY']! } },
          ),
        );
        return r.outcome === 'allow' ? { outcome: 'allow', code: null } : { outcome: 'deny', code: r.code };
      },
      dump: async () => dumpThisProcess({ heap: true }),
    },
    stop,
  );
  emit({ event: 'ready', pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`[legacy-agent] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
