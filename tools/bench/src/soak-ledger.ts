/**
 * What a soak or crash run observed: operations that succeeded, denials that were
 * expected (a revoked token refused, an over-limit amount, a replayed launch token),
 * errors that were not, and everything the services acknowledged that must therefore be
 * in the audit log: the events an acknowledged operation implies, and audit appends with
 * the sequence the log answered.
 */
import { isBatonError } from '@baton/core';

/** An audit event an acknowledged operation implies; matched by type and agent or task. */
export interface ExpectedEvent {
  readonly type: string;
  readonly agent?: string;
  readonly task?: string;
}

/** An event appended through the AuditService and acknowledged with its sequence. */
export interface AckedAppend {
  readonly eventId: string;
  readonly sequence: number;
}

/** An error that was neither an expected denial nor caused by a deliberate crash. */
export interface UnexpectedError {
  readonly op: string;
  readonly code: string;
  readonly detail: string;
}

/** The code of an error: the BatonError code, else its `code` property, else its name. */
export function errorCode(err: unknown): string {
  if (isBatonError(err)) return err.code;
  const c = (err as { code?: unknown } | null)?.code;
  if (typeof c === 'string' || typeof c === 'number') return String(c);
  return err instanceof Error ? err.name : 'UNKNOWN';
}

/** Most unexpected errors kept verbatim (all are counted). */
const KEEP_ERRORS = 50;

/** The tally of one run (all rounds of a crash run share one). */
export class SoakLedger {
  /** Successful operations by name. */
  readonly ok = new Map<string, number>();
  /** Expected denials by code. */
  readonly denied = new Map<string, number>();
  /** Operations cut short by a deliberate kill, by name. */
  readonly interrupted = new Map<string, number>();
  readonly unexpected: UnexpectedError[] = [];
  unexpectedCount = 0;
  readonly expectedEvents: ExpectedEvent[] = [];
  readonly ackedAppends: AckedAppend[] = [];
  /**
   * Set by the crash driver just before it kills the authority and cleared once the new
   * one is ready: errors in between are interruptions, not failures.
   */
  crashing = false;

  /** Counts a success of `op` and records the audit events it implies. */
  succeeded(op: string, ...events: ExpectedEvent[]): void {
    bump(this.ok, op);
    this.expectedEvents.push(...events);
  }

  /** Counts an expected denial. */
  deniedAsExpected(code: string): void {
    bump(this.denied, code);
  }

  /** Classifies a failure of `op`: an interruption while crashing, else unexpected. */
  failed(op: string, err: unknown): void {
    if (this.crashing) {
      bump(this.interrupted, op);
      return;
    }
    this.unexpectedCount++;
    if (this.unexpected.length < KEEP_ERRORS) {
      this.unexpected.push({ op, code: errorCode(err), detail: String((err as Error)?.message ?? err).slice(0, 300) });
    }
  }

  /**
   * Runs `fn` as operation `op`. Without `denial`, success is counted and a failure
   * classified. With `denial`, exactly that code is the expected outcome: anything else,
   * success included, is unexpected (or an interruption while crashing).
   */
  async step<T>(op: string, fn: () => Promise<T>, denial?: string): Promise<T | undefined> {
    try {
      const out = await fn();
      if (denial !== undefined) this.failed(op, Object.assign(new Error(`${op}: allowed, expected ${denial}`), { code: 'UNEXPECTEDLY_ALLOWED' }));
      else bump(this.ok, op);
      return out;
    } catch (err) {
      if (denial !== undefined && errorCode(err) === denial) this.deniedAsExpected(denial);
      else this.failed(op, err);
      return undefined;
    }
  }

  /** Total successful operations. */
  get operations(): number {
    return sum(this.ok);
  }

  /** Total expected denials. */
  get denials(): number {
    return sum(this.denied);
  }
}

function bump(m: Map<string, number>, k: string): void {
  m.set(k, (m.get(k) ?? 0) + 1);
}

function sum(m: Map<string, number>): number {
  let n = 0;
  for (const v of m.values()) n += v;
  return n;
}

/** A map as a sorted plain object (for reports and JSON). */
export function tally(m: ReadonlyMap<string, number>): Record<string, number> {
  return Object.fromEntries([...m].sort(([a], [b]) => a.localeCompare(b)));
}
