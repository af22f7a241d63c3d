/**
 * The durable audit client a demo process emits through, when an audit service is
 * configured (`BATON_AUDIT`): events are spooled to disk first (`BATON_AUDIT_SPOOL`,
 * 0700) and delivered in signed batches, so none is lost if the service is briefly away.
 */
import type { KeyPair } from '@baton/core';
import { createAuditClient, grpcAuditTransport } from '@baton/audit';
import type { AuditClient } from '@baton/audit';

/** An audit client for `source`, or undefined when no audit service is configured. */
export async function openAuditSink(source: string, keyPair: KeyPair): Promise<AuditClient | undefined> {
  const target = process.env['BATON_AUDIT'];
  const spoolDir = process.env['BATON_AUDIT_SPOOL'];
  if (!target) return undefined;
  if (!spoolDir) throw new TypeError('BATON_AUDIT_SPOOL must be set with BATON_AUDIT');
  return createAuditClient({
    transport: grpcAuditTransport({ target, keyPair }),
    spoolDir,
    source,
    // Each denial must stay its own entry; aggregation is for repetitive successful reads.
    onAlarm: (a) => process.stderr.write(`[${source}] audit alarm: ${JSON.stringify(a)}\n`),
  });
}
