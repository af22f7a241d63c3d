#!/usr/bin/env node
/**
 * The attacker: a separate process on the same network that got hold of credentials it
 * should not have (an access token lifted from an agent, a launch token copied from a
 * spawn environment) but not the agent's private key. It tries them against the payments
 * server and the authority and reports what happened.
 *
 * Environment: `BATON_AUTHORITY`, `BATON_PAYMENTS`, `BATON_TRACE_FILE`.
 */
import { createAgent } from '@baton/agent';
import { generateKeyPair } from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import { createClient } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { outcomeOf } from './call-outcome.js';
import { emit, numberField, serveCommands, stringField } from './line-protocol.js';
import type { Command } from './line-protocol.js';
import { contextOf, inSpan, recordCode, setupProcessTracing } from './process-tracing.js';

const APPROVE = `/${PaymentsService.typeName}/ApproveInvoice`;

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new TypeError(`${name} must be set`);
  return v;
}

async function main(): Promise<void> {
  const tracing = setupProcessTracing('attacker');
  const authority = required('BATON_AUTHORITY');
  const payments = createClient(PaymentsService, required('BATON_PAYMENTS'));
  // The attacker's own key: it can sign proofs, just not as the agent.
  const ownKey = generateKeyPair();

  const stop = async (): Promise<void> => {
    payments.close();
    await tracing.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());

  serveCommands(
    {
      // Replays a stolen access token: first as a bare bearer token, then with a proof
      // signed by the attacker's own key.
      'replay-token': (command: Command) =>
        inSpan('attacker: replay stolen token', async (span) => {
          const token = stringField(command, 'token');
          const request = { invoiceId: stringField(command, 'invoiceId'), amount: numberField(command, 'amount'), vendor: stringField(command, 'vendor') };
          const tries = [
            { how: 'token without a proof', metadata: { authorization: `DPoP ${token}` } },
            { how: "proof signed by the attacker's own key", metadata: dpopMetadata(ownKey, token, APPROVE) },
          ];
          const attempts: Record<string, unknown>[] = [];
          for (const t of tries) {
            const r = await outcomeOf(() => payments.approveInvoice(request, { metadata: t.metadata }));
            attempts.push({ how: t.how, outcome: r.outcome, code: r.outcome === 'deny' ? r.code : null });
          }
          recordCode(span, attempts.find((a) => a['code'])?.['code'] as string | undefined);
          return { attempts };
        }, { parent: contextOf(command.traceparent) }),

      // Uses a stolen static API key against the legacy server, as anyone could.
      'replay-api-key': (command: Command) =>
        inSpan('attacker: replay stolen API key', async (span) => {
          const target = required('LEGACY_PAYMENTS');
          const legacy = createClient(PaymentsService, target);
          try {
            const r = await outcomeOf(() =>
              legacy.approveInvoice(
                { invoiceId: stringField(command, 'invoiceId'), amount: numberField(command, 'amount'), vendor: stringField(command, 'vendor') },
                { metadata: { 'x-api-key': stringField(command, 'apiKey') } },
              ),
            );
            if (r.outcome === 'deny') recordCode(span, r.code);
            return r.outcome === 'allow' ? { outcome: 'allow', code: null, approvedBy: r.value.approvedBy } : { outcome: 'deny', code: r.code };
          } finally {
            legacy.close();
          }
        }, { parent: contextOf(command.traceparent) }),

      // Registers with a launch token someone else already used.
      register: (command: Command) =>
        inSpan('attacker: register with a copied launch token', async (span) => {
          const r = await outcomeOf(() =>
            createAgent({ authority, launchToken: stringField(command, 'launchToken'), name: 'intruder', heartbeat: false, env: {} }),
          );
          if (r.outcome === 'allow') {
            await r.value.release().catch(() => undefined);
            return { outcome: 'allow', code: null };
          }
          recordCode(span, r.code);
          return { outcome: 'deny', code: r.code };
        }, { parent: contextOf(command.traceparent) }),
    },
    () => void stop(),
  );
  emit({ event: 'ready', pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`[attacker] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
