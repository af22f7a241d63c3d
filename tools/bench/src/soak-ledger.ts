/**
 * What a soak or crash run observed: operations that succeeded, denials that were
 * expected (a revoked token refused, an over-limit amount, a replayed launch token),
 * errors that were not, and everything the services acknowledged that must therefore be
 * in the audit log: the events an acknowledged operation implies, and audit appends with
 * the sequence the log answered.
 */
import { isBatonError, type KeyPair } from '@baton/core';

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

/** A registration's single-use material, kept for replays. */
export interface UsedNonce {
  readonly launchToken: string;
  readonly key: KeyPair;
  readonly nonce: Uint8Array;
  /** When the challenge was issued (ms). */
  readonly nonceAt: number;
}

/** Single-use material a crash run replays after the restart. */
export interface ReplayBook {
  /** Launch tokens of acknowledged registrations: must never work again. */
  acknowledged: string[];
  /** Launch tokens of registrations cut short by the kill: may work at most once. */
  unknown: string[];
  /** Acknowledged registrations with their nonce: the nonce must never work again. */
  raw: UsedNonce[];
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

/** Options of {@link SoakLedger.step}. */
export interface StepOptions<T> {
  /** The one code the operation must be refused with. */
  readonly denial?: string;
  /** Audit events the acknowledged outcome implies (the result, or undefined for a denial). */
  readonly events?: (out: T | undefined) => ExpectedEvent[];
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
  /** Launch tokens and nonces a crash run replays after the restart. */
  readonly replays: ReplayBook = { acknowledged: [], unknown: [], raw: [] };
  /**
   * Set by the crash driver just before it kills the authority and cleared once the new
   * one is ready: errors in between are interruptions, not failures.
   */
  crashing = false;

  /** Starts a new replay book (each crash round replays only its own material). */
  clearReplays(): void {
    this.replays.acknowledged.length = 0;
    this.replays.unknown.length = 0;
    this.replays.raw.length = 0;
  }

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
   * Runs `fn` as operation `op`. Without `denial`, success is counted (with the audit
   * events `events` says it implies) and a failure classified. With `denial`, exactly that
   * code is the expected outcome (and `events` what the denial implies); anything else,
   * success included, is unexpected (or an interruption while crashing).
   */
  async step<T>(op: string, fn: () => Promise<T>, options: StepOptions<T> = {}): Promise<T | undefined> {
    let out: T;
    try {
      out = await fn();
    } catch (err) {
      if (options.denial !== undefined && errorCode(err) === options.denial) {
        this.deniedAsExpected(options.denial);
        this.expectedEvents.push(...(options.events?.(undefined) ?? []));
      } else this.failed(op, err);
      return undefined;
    }
    if (options.denial !== undefined) {
      this.failed(op, Object.assign(new Error(`${op}: allowed, expected ${options.denial}`), { code: 'UNEXPECTEDLY_ALLOWED' }));
      return undefined;
    }
    this.succeeded(op, ...(options.events?.(out) ?? []));
    return out;
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
