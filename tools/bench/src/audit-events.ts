/**
 * Realistic audit events for the audit benchmarks: the mix a busy authority and its
 * guards write (decisions, issuance, renewals, delegations, some denials with their
 * precise reasons), with trace ids, principals (stored as keyed hashes) and allowlisted
 * attributes, so the log's sanitizer and hashing do their real work.
 */
import { randomBytes } from 'node:crypto';
import type { AuditEventInput } from '@baton/audit';

const KINDS = [
  { type: 'validation.allowed', outcome: 'allow', action: 'approve', resource: 'payments' },
  { type: 'validation.allowed', outcome: 'allow', action: 'read', resource: 'invoices' },
  { type: 'token.renewed', outcome: 'allow', action: '', resource: '' },
  { type: 'token.issued', outcome: 'allow', action: '', resource: '' },
  { type: 'delegation.granted', outcome: 'allow', action: 'approve', resource: 'payments' },
  { type: 'validation.denied', outcome: 'deny', action: 'approve', resource: 'payments' },
] as const;

/** `count` distinct events; sequence numbers in ids and times start at `from`. */
export function auditEvents(count: number, from = 0): AuditEventInput[] {
  const out: AuditEventInput[] = new Array(count);
  const traceBase = randomBytes(16).toString('hex').slice(0, 24);
  const idBase = randomBytes(12).toString('base64url');
  const now = Date.now();
  for (let k = 0; k < count; k++) {
    const i = from + k;
    const kind = KINDS[i % KINDS.length]!;
    const task = `invoice-${i % 97}`;
    out[k] = {
      eventId: `${idBase}${i.toString(36).padStart(8, '0')}`,
      time: now + i,
      type: kind.type,
      source: kind.type.startsWith('validation') ? 'guard:payments' : kind.type.startsWith('delegation') ? 'delegation' : 'issuer',
      outcome: kind.outcome,
      agent: `spiffe://baton.local/agent/expense-orchestrator/${task}/${idBase.slice(0, 6)}${String(i).padStart(16, '0')}`,
      task,
      orchestration: 'expense-orchestrator',
      workflow: 'expense-approval',
      principal: `user:vp${i % 13}@acme.example`,
      action: kind.action,
      resource: kind.resource,
      ...(kind.outcome === 'deny' ? { reasonCode: 'ERR_CONSTRAINT_VIOLATED', reasonDetail: `max_amount ${6000 + (i % 1000)} above the limit 5000 of hop 2` } : {}),
      ...(kind.type === 'delegation.granted' ? { delegationDepth: 1 + (i % 5), chainHash: randomBytes(32).toString('base64url') } : {}),
      traceId: `${traceBase}${(i % 0xffffffff).toString(16).padStart(8, '0')}`,
      spanId: randomBytes(8).toString('hex'),
      tokenBytes: 1100 + (i % 2000),
      attributes: { method: '/acme.payments.v1.Payments/Approve', status: kind.outcome === 'deny' ? 'denied' : 'ok' },
    };
  }
  return out;
}
