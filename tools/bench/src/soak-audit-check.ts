/**
 * Reads the authority's audit log file and checks it against what was acknowledged: each
 * direct append must be at its acknowledged sequence, and every event an acknowledged
 * operation implies must be there (by type and agent and/or task, counted: two renewals
 * of one agent need two `token.renewed` entries). Plus offline verification of the
 * file (hash chain, Merkle roots, signed checkpoints).
 */
import { createSqliteAuditStore, verifyLogFile, type NoteVerifier, type VerifyLogFileReport } from '@baton/audit';
import type { AckedAppend, ExpectedEvent, SoakLedger } from './soak-ledger.js';

/** An expected event found fewer times than acknowledged. */
export interface MissingEvent extends ExpectedEvent {
  readonly expected: number;
  readonly found: number;
}

/** What {@link findMissing} saw. */
export interface AuditPresence {
  /** Entries in the log. */
  readonly entries: number;
  /** Acknowledged appends not at their sequence. */
  readonly missingAppends: readonly AckedAppend[];
  readonly missingEvents: readonly MissingEvent[];
}

const keyOf = (e: ExpectedEvent): string => `${e.type}\u0000${e.agent ?? '*'}\u0000${e.task ?? '*'}`;

/** The keys an entry or an expectation counts under: exact, by agent, by task. */
function keysOf(type: string, agent: string | undefined, task: string | undefined): string[] {
  const out: string[] = [];
  if (agent !== undefined && task !== undefined) out.push(keyOf({ type, agent, task }));
  if (agent !== undefined) out.push(keyOf({ type, agent }));
  if (task !== undefined) out.push(keyOf({ type, task }));
  return out;
}

/** Compares the log file with the ledger once. */
export async function findMissing(auditFile: string, ledger: SoakLedger): Promise<AuditPresence> {
  const required = new Map<string, { event: ExpectedEvent; n: number }>();
  for (const e of ledger.expectedEvents) {
    for (const k of keysOf(e.type, e.agent, e.task)) {
      const r = required.get(k);
      if (r) r.n++;
      else required.set(k, { event: k === keyOf(e) ? e : parseKey(k), n: 1 });
    }
  }
  const appendAt = new Map<number, string>(ledger.ackedAppends.map((a) => [a.sequence, a.eventId]));
  const found = new Map<string, number>();
  const badAppends = new Set<number>(appendAt.keys());
  const store = await createSqliteAuditStore({ path: auditFile, readonly: true });
  let entries = 0;
  try {
    for await (const entry of store.entries()) {
      entries++;
      const ev = entry.event;
      if (appendAt.get(entry.sequence) === ev.eventId) badAppends.delete(entry.sequence);
      for (const k of keysOf(ev.type, ev.agent || undefined, ev.task || undefined)) {
        if (required.has(k)) found.set(k, (found.get(k) ?? 0) + 1);
      }
    }
  } finally {
    await store.close();
  }
  const missingEvents: MissingEvent[] = [];
  for (const [k, { event, n }] of required) {
    const f = found.get(k) ?? 0;
    if (f < n) missingEvents.push({ ...event, expected: n, found: f });
  }
  const missingAppends = ledger.ackedAppends.filter((a) => badAppends.has(a.sequence));
  return { entries, missingAppends, missingEvents };
}

function parseKey(k: string): ExpectedEvent {
  const [type, agent, task] = k.split('\u0000') as [string, string, string];
  return { type, ...(agent !== '*' ? { agent } : {}), ...(task !== '*' ? { task } : {}) };
}

/**
 * Polls {@link findMissing} until nothing is missing or `timeoutMs` passed: after a
 * restart, events acknowledged before the kill reach the log from the services' spools.
 */
export async function waitForAcknowledged(auditFile: string, ledger: SoakLedger, timeoutMs = 30_000): Promise<AuditPresence> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = await findMissing(auditFile, ledger);
    if ((p.missingAppends.length === 0 && p.missingEvents.length === 0) || Date.now() > until) return p;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Offline verification with the log's key; `checkpoints` are signed notes obtained from the live service. */
export function verifyAuditFile(auditFile: string, verifier: NoteVerifier, checkpoints: readonly string[] = []): Promise<VerifyLogFileReport> {
  return verifyLogFile(auditFile, { verifiers: [verifier], origin: verifier.name, checkpoints, threads: 1 });
}
