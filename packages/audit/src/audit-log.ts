/**
 * The audit log: validates and sanitizes submitted events, chains and appends them
 * (group-committing concurrent calls into one transaction), signs checkpoints, and
 * serves queries, tails, proofs and verification.
 */
import { BatonError, isBatonError, systemClock, type Clock, type ErrorCode } from '@baton/core';
import type { SignedCheckpoint } from './checkpoint.js';
import type { AuditEventFields } from './event.js';
import { createCheckpointer } from './log-checkpoints.js';
import { createLogReads, type LogReads } from './log-reads.js';
import type { Sanitizer } from './sanitizer.js';
import type { NoteSigner, NoteVerifier } from './signed-note.js';
import type { AuditStore } from './store.js';
import { validateEvent } from './validate-event.js';

/** The outcome of one submitted event, in submission order. */
export interface AppendResult {
  /** The submitted id ('' when it was not a string). */
  readonly eventId: string;
  readonly status: 'accepted' | 'duplicate' | 'rejected';
  /** Sequence of the stored entry (the original one for a duplicate); 0 when rejected. */
  readonly sequence: number;
  /** Why it was rejected. */
  readonly code?: ErrorCode;
  readonly detail?: string;
}

/** Options of {@link createAuditLog}. */
export interface AuditLogOptions {
  readonly store: AuditStore;
  /** Signs checkpoints (the authority's log key); its name should equal `origin`. */
  readonly signer: NoteSigner;
  /** Checkpoint origin line, e.g. `baton.example/audit`. */
  readonly origin: string;
  /** Hashes principals and free text, redacts PII and secrets. */
  readonly sanitizer: Sanitizer;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** How often a checkpoint is signed while there are new entries. Default 1000; 0 = only on demand. */
  readonly checkpointIntervalMs?: number;
  /** Keys whose stored checkpoints are trusted. Default: the signer's own. */
  readonly verifiers?: readonly NoteVerifier[];
  /** Most events accepted per append call. Default 1000. */
  readonly maxBatch?: number;
  /** Told about background failures (checkpoint timer). */
  readonly onError?: (err: unknown) => void;
}

/** Defaults of {@link AuditLogOptions}. */
export const AUDIT_LOG_DEFAULTS = Object.freeze({ checkpointIntervalMs: 1000, maxBatch: 1000 });

/** The audit log. */
export interface AuditLog extends LogReads {
  readonly origin: string;
  /**
   * Appends a batch. Each event is validated and sanitized on its own: a bad one is
   * rejected with a code and never blocks the others. Resolves once the accepted events
   * are committed.
   */
  append(events: readonly unknown[]): Promise<AppendResult[]>;
  /** Signs a checkpoint now if the log grew; returns the newest. */
  checkpoint(): Promise<SignedCheckpoint>;
  /** The newest signed checkpoint (signing the first one if needed). */
  latestCheckpoint(): Promise<SignedCheckpoint>;
  /** Stops timers and signs a final checkpoint. Does not close the store. */
  close(): Promise<void>;
}

interface Pending {
  readonly events: AuditEventFields[];
  resolve(outcomes: Array<{ status: 'accepted' | 'duplicate'; sequence: number }>): void;
  reject(err: unknown): void;
}

/**
 * Creates the audit log over a store.
 *
 * @example
 * const log = createAuditLog({ store, signer: createNoteSigner(origin, logKey), origin, sanitizer: createSanitizer({ key }) });
 * const [r] = await log.append([{ eventId, time: Date.now(), type: 'token.issued', source: 'issuer' }]);
 */
export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { store, signer, origin, sanitizer } = options;
  const clock = options.clock ?? systemClock;
  const maxBatch = options.maxBatch ?? AUDIT_LOG_DEFAULTS.maxBatch;
  const verifiers = options.verifiers ?? (signer.verifier ? [signer.verifier] : []);
  if (verifiers.length === 0) throw new TypeError('createAuditLog needs verifiers when the signer has none');
  const checkpoints = createCheckpointer({
    store,
    signer,
    origin,
    clock,
    verifiers,
    intervalMs: options.checkpointIntervalMs ?? AUDIT_LOG_DEFAULTS.checkpointIntervalMs,
    ...(options.onError ? { onError: options.onError } : {}),
  });
  const listeners = new Set<() => void>();
  const reads = createLogReads({ store, verifiers, origin, sanitizer, latestCheckpoint: checkpoints.latest, checkpoint: checkpoints.checkpoint, listeners });

  // Group commit: while one transaction runs, later calls queue up and go together in the next.
  let queue: Pending[] = [];
  let running = false;
  const drain = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        const batch = queue;
        queue = [];
        try {
          const outcomes = await store.append(
            batch.flatMap((p) => p.events),
            clock.now(),
          );
          let i = 0;
          for (const p of batch) {
            p.resolve(outcomes.slice(i, i + p.events.length));
            i += p.events.length;
          }
          for (const l of listeners) l();
          checkpoints.poke();
        } catch (err) {
          for (const p of batch) p.reject(err);
        }
      }
    } finally {
      running = false;
    }
  };

  let closed = false;
  return {
    origin,
    ...reads,
    async append(events) {
      if (closed) throw new BatonError('ERR_AUDIT_UNAVAILABLE', 'audit log closed');
      if (!Array.isArray(events)) throw new TypeError('append expects an array');
      if (events.length > maxBatch) throw new BatonError('ERR_MESSAGE_TOO_LARGE', `more than ${maxBatch} events in one append`);
      const results: Array<AppendResult | undefined> = [];
      const good: AuditEventFields[] = [];
      const goodAt: number[] = [];
      events.forEach((raw, i) => {
        const eventId = typeof (raw as { eventId?: unknown })?.eventId === 'string' ? (raw as { eventId: string }).eventId : '';
        try {
          good.push(sanitizer.sanitize(validateEvent(raw)).event);
          goodAt.push(i);
          results.push(undefined);
        } catch (err) {
          if (!isBatonError(err)) throw err;
          results.push({ eventId: eventId.slice(0, 64), status: 'rejected', sequence: 0, code: err.code, detail: err.detail });
        }
      });
      if (good.length > 0) {
        const outcomes = await new Promise<Array<{ status: 'accepted' | 'duplicate'; sequence: number }>>((resolve, reject) => {
          queue.push({ events: good, resolve, reject });
          void drain();
        });
        outcomes.forEach((o, k) => {
          results[goodAt[k]!] = { eventId: good[k]!.eventId, status: o.status, sequence: o.sequence };
        });
      }
      return results as AppendResult[];
    },
    checkpoint: checkpoints.checkpoint,
    latestCheckpoint: checkpoints.latest,
    async close() {
      if (closed) return;
      closed = true;
      checkpoints.stop();
      while (running || queue.length > 0) await new Promise((r) => setTimeout(r, 5));
      await checkpoints.checkpoint().catch((err: unknown) => options.onError?.(err));
    },
  };
}
