/**
 * Audit appends straight through the AuditService, signed by the resource's key, with
 * every acknowledged result (event id → sequence) recorded: after a crash each of them
 * must be in the log at exactly that sequence.
 */
import { grpcAuditTransport, type AuditEventInput } from '@baton/audit';
import { randomId, type KeyPair } from '@baton/core';
import type { SoakLedger } from './soak-ledger.js';

/** Options of {@link runAppender}. */
export interface AppenderOptions {
  readonly authority: string;
  /** A key the audit service accepts appends from (the resource's). */
  readonly keyPair: KeyPair;
  readonly ledger: SoakLedger;
  /** Keep appending while this says so. */
  readonly running: () => boolean;
  /** Events per Append. Default 10. */
  readonly batch?: number;
  /** Pause between appends, ms. Default 50. */
  readonly pauseMs?: number;
}

function probeEvent(): AuditEventInput {
  return {
    eventId: randomId(16),
    time: Date.now(),
    type: 'validation.denied',
    source: 'guard:payments',
    outcome: 'deny',
    action: 'approve',
    resource: 'payments',
    reasonCode: 'ERR_SCOPE_DENIED',
    reasonDetail: 'soak probe',
  };
}

/** Appends until `running()` is false; every outcome lands in the ledger. */
export async function runAppender(options: AppenderOptions): Promise<void> {
  const { ledger } = options;
  const transport = grpcAuditTransport({ target: options.authority, keyPair: options.keyPair, deadlineMs: 5000, maxReconnectBackoffMs: 1000 });
  try {
    while (options.running()) {
      const events = Array.from({ length: options.batch ?? 10 }, probeEvent);
      const results = await ledger.step('audit_append', () => transport.append(events));
      for (const r of results ?? []) {
        if (r.status === 'rejected') ledger.failed('audit_append', Object.assign(new Error(r.detail ?? 'rejected'), { code: r.code ?? 'REJECTED' }));
        else ledger.ackedAppends.push({ eventId: r.eventId, sequence: r.sequence });
      }
      await new Promise((r) => setTimeout(r, options.pauseMs ?? 50));
    }
  } finally {
    transport.close?.();
  }
}
