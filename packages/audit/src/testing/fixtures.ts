// Test helpers (excluded from the build).
import { randomBytes } from 'node:crypto';
import { ZERO_HASH, sealEntry } from '../entry-hash.js';
import type { AuditEntry, AuditEventFields, AuditEventInput } from '../event.js';

let counter = 0;

/** A fresh valid event id. */
export const newEventId = (): string => randomBytes(16).toString('base64url');

/** A valid submitted event; `over` overrides fields. */
export function inputEvent(over: Partial<AuditEventInput> = {}): AuditEventInput {
  counter++;
  return {
    eventId: newEventId(),
    time: 1_700_000_000_000 + counter,
    type: 'token.issued',
    source: 'issuer',
    agent: `spiffe://baton.test/agent/orch/task-${counter % 7}/inst${String(counter).padStart(16, '0')}`,
    task: `task-${counter % 7}`,
    orchestration: 'orch',
    workflow: 'payments',
    action: 'read',
    resource: 'invoice',
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    ...over,
  };
}

/** A normalized stored event. */
export function storedEvent(i: number, over: Partial<AuditEventFields> = {}): AuditEventFields {
  return {
    eventId: `evt-${String(i).padStart(16, '0')}`,
    time: 1_700_000_000_000 + i,
    type: 'validation.allowed',
    source: 'guard:payments',
    outcome: 'allow',
    agent: `spiffe://baton.test/agent/o/t/${String(i).padStart(16, '0')}`,
    task: 't',
    orchestration: 'o',
    workflow: 'w',
    principal: '',
    action: 'read',
    resource: `invoice:${i}`,
    reasonCode: '',
    reasonDetail: '',
    delegationDepth: 0,
    chainHash: '',
    intermediateAgents: [],
    traceId: '',
    spanId: '',
    requestBytes: 0,
    tokenBytes: 0,
    attributes: {},
    count: 1,
    firstTime: 0,
    lastTime: 0,
    ...over,
  };
}

/** A valid chain of `n` entries (sequences 1..n). */
export function chain(n: number): AuditEntry[] {
  const out: AuditEntry[] = [];
  let prev = ZERO_HASH;
  for (let i = 1; i <= n; i++) {
    const e = sealEntry(storedEvent(i), i, prev, 1_700_000_100_000 + i);
    out.push(e);
    prev = e.eventHash;
  }
  return out;
}
