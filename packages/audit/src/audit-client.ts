/**
 * The one way Baton components record audit events: an {@link AuditSink} whose `emit`
 * resolves once the event is durable in a local spool, while a background sender ships
 * spooled events to the AuditService in order. If the service is unreachable, events
 * wait on disk and are replayed in order when it returns; the service deduplicates by
 * event id, so resending after a lost reply is safe.
 *
 * Overflow policy: the spool is bounded (`maxSpoolBytes`). When full, `emit` rejects
 * with ERR_AUDIT_UNAVAILABLE, the overflow metric is incremented and `onAlarm` fires —
 * never a silent drop. The caller decides: fail-open (the default for Baton services:
 * the operation proceeds, the alarm has been raised) or fail-closed when the workflow's
 * policy demands it (the operation fails with that error).
 */
import { BatonError, randomId, systemClock, type AuditRecord, type AuditSink, type Clock, type ErrorCode } from '@baton/core';
import { activeTraceIds, kpis } from '@baton/telemetry';
import type { AuditEventInput } from './event.js';
import type { AuditTransport } from './grpc-transport.js';
import { createReadAggregator, type ReadAggregatorOptions } from './read-aggregator.js';
import { Spool } from './spool.js';
import { validateEvent } from './validate-event.js';

/** Something the operator must know about. */
export interface AuditAlarm {
  /** `spool_full`: an event was refused; `rejected`: the service refused an event for good;
   * `send_failing`: delivery keeps failing; `spool_corrupt`: an unreadable spool line was skipped. */
  readonly kind: 'spool_full' | 'rejected' | 'send_failing' | 'spool_corrupt';
  readonly detail: string;
  readonly code?: ErrorCode;
}

/** Counters of one client. */
export interface AuditClientStats {
  readonly spooledEvents: number;
  readonly spooledBytes: number;
  readonly heldForAggregation: number;
  readonly delivered: number;
  readonly duplicates: number;
  readonly rejected: number;
  readonly refused: number;
  readonly sendFailures: number;
}

/** Options of {@link createAuditClient}. */
export interface AuditClientOptions {
  /** Where batches go (e.g. {@link grpcAuditTransport}). */
  readonly transport: AuditTransport;
  /** Spool directory (created 0700; files 0600). One client per directory. */
  readonly spoolDir: string;
  /** Bound of the spool. Default 64 MiB. */
  readonly maxSpoolBytes?: number;
  /** `source` of events that name none, e.g. `issuer`. */
  readonly source: string;
  readonly clock?: Clock;
  /** Events per Append call. Default 500. */
  readonly maxBatch?: number;
  /** Aggregation of repetitive successful reads; `false` turns it off. Default: 1 s windows. */
  readonly aggregateReads?: false | Omit<ReadAggregatorOptions, 'clock' | 'flush'>;
  readonly onAlarm?: (alarm: AuditAlarm) => void;
  /** Retry backoff bounds in ms. Default 100 → 5000. */
  readonly retryInitialMs?: number;
  readonly retryMaxMs?: number;
}

/** Defaults of {@link AuditClientOptions}. */
export const AUDIT_CLIENT_DEFAULTS = Object.freeze({
  maxSpoolBytes: 64 * 1024 * 1024,
  maxBatch: 500,
  maxBatchBytes: 1024 * 1024,
  retryInitialMs: 100,
  retryMaxMs: 5000,
  aggregationWindowMs: 1000,
});

/** The durable audit client. */
export interface AuditClient extends AuditSink {
  /**
   * Records an event. Resolves once it is durable in the spool (aggregatable reads: once
   * held for aggregation). Rejects with the validation code for a malformed event, or
   * ERR_AUDIT_UNAVAILABLE when the spool is full or the client closed.
   */
  emit(record: AuditRecord | AuditEventInput): Promise<void>;
  /** Waits until everything emitted so far has been delivered (or `timeoutMs` passed); true when drained. */
  drain(timeoutMs?: number): Promise<boolean>;
  stats(): AuditClientStats;
  /** Flushes held reads to the spool and stops sending; undelivered events stay on disk. */
  close(): Promise<void>;
}

/**
 * Opens the spool (replaying what a previous run left) and starts the sender.
 *
 * @example
 * const audit = await createAuditClient({ transport: grpcAuditTransport({ target, keyPair }), spoolDir: '/var/lib/baton/audit-spool', source: 'issuer' });
 * await audit.emit({ type: 'token.issued', outcome: 'allow', agent, task });
 */
export async function createAuditClient(options: AuditClientOptions): Promise<AuditClient> {
  const o = { ...AUDIT_CLIENT_DEFAULTS, ...options };
  const clock = options.clock ?? systemClock;
  const alarm = (a: AuditAlarm): void => {
    try {
      options.onAlarm?.(a);
    } catch {
      // an alarm handler must not break auditing
    }
  };
  const spool = await Spool.open({ dir: o.spoolDir, maxBytes: o.maxSpoolBytes, onCorrupt: (detail) => alarm({ kind: 'spool_corrupt', detail }) });
  const counts = { delivered: 0, duplicates: 0, rejected: 0, refused: 0, sendFailures: 0 };
  const stop = new AbortController();

  const toSpool = async (events: AuditEventInput[]): Promise<void> => {
    try {
      await spool.append(events);
    } catch (err) {
      counts.refused += events.length;
      kpis().auditSpoolOverflows.add(events.length);
      alarm({ kind: 'spool_full', detail: (err as Error).message, code: 'ERR_AUDIT_UNAVAILABLE' });
      throw err;
    }
  };

  const aggregator =
    options.aggregateReads === false
      ? undefined
      : createReadAggregator({
          ...(options.aggregateReads ?? {}),
          clock,
          flush: (events) => {
            toSpool(events).catch(() => undefined); // refusal already counted and alarmed
          },
        });
  const windowMs = (options.aggregateReads || undefined)?.windowMs ?? o.aggregationWindowMs;
  const sweeper = aggregator ? setInterval(() => aggregator.sweep(), Math.max(10, windowMs / 4)) : undefined;
  sweeper?.unref();

  const sender = (async () => {
    let delay = o.retryInitialMs;
    while (!stop.signal.aborted) {
      await spool.waitForData(stop.signal);
      if (stop.signal.aborted) break;
      const batch = spool.peek(o.maxBatch, o.maxBatchBytes);
      if (batch.length === 0) continue;
      try {
        const results = await o.transport.append(batch.map((r) => r.event));
        results.forEach((r, i) => {
          if (r.status === 'accepted') counts.delivered++;
          else if (r.status === 'duplicate') counts.duplicates++;
          else {
            counts.rejected++;
            alarm({ kind: 'rejected', detail: `event ${batch[i]!.event.eventId} refused: ${r.detail ?? ''}`, ...(r.code ? { code: r.code } : {}) });
          }
        });
        await spool.ack(batch[batch.length - 1]!.seq);
        kpis().auditSpoolDepth.record(spool.length);
        delay = o.retryInitialMs;
      } catch (err) {
        counts.sendFailures++;
        if (counts.sendFailures % 10 === 1) alarm({ kind: 'send_failing', detail: (err as Error).message, code: (err as BatonError).code ?? 'ERR_UNAVAILABLE' });
        await sleep(delay, stop.signal);
        delay = Math.min(delay * 2, o.retryMaxMs);
      }
    }
  })();

  let closed = false;
  return {
    async emit(record) {
      if (closed) throw new BatonError('ERR_AUDIT_UNAVAILABLE', 'audit client closed');
      const event = complete(record, options.source, clock);
      validateEvent(event); // a malformed event fails here, at its source
      if (aggregator?.offer(event)) return;
      await toSpool([event]);
    },
    async drain(timeoutMs = 30_000) {
      aggregator?.flushAll();
      const until = Date.now() + timeoutMs;
      while (spool.length > 0 || spool.bytes > 0) {
        if (Date.now() >= until) return false;
        await sleep(10);
      }
      return true;
    },
    stats: () => ({ ...counts, spooledEvents: spool.length, spooledBytes: spool.bytes, heldForAggregation: aggregator?.held ?? 0 }),
    async close() {
      if (closed) return;
      closed = true;
      if (sweeper) clearInterval(sweeper);
      aggregator?.flushAll();
      await new Promise((r) => setImmediate(r));
      stop.abort();
      await sender;
      await spool.close();
      o.transport.close?.();
    },
  };
}

/** Fills what the source may leave out: id, time, source, and the active trace ids. */
function complete(record: AuditRecord | AuditEventInput, source: string, clock: Clock): AuditEventInput {
  const r = record as Partial<AuditEventInput>;
  const ids = r.traceId === undefined ? activeTraceIds() : undefined;
  return {
    ...r,
    eventId: r.eventId ?? randomId(16),
    time: r.time ?? clock.now(),
    source: r.source ?? source,
    type: r.type ?? '',
    ...(ids ? { traceId: ids.traceId, spanId: ids.spanId } : {}),
  } as AuditEventInput;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
