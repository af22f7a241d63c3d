/**
 * The guard side of anomaly response: an `onDecision` hook that batches decision
 * summaries (with the token each was about, as evidence) and sends them to
 * AnomalyService.ReportDecisions, signed by the resource server's reporter key.
 * Best effort by design: the decision itself already stood, so a batch that cannot be
 * sent is dropped and counted, and the queue is bounded.
 */
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { systemClock, type Clock, type KeyPair } from '@baton/core';
import { keyProofMetadata, type Decision, type DecisionInfo } from '@baton/guard';
import type { Client } from '@baton/proto';
import { AnomalyService, ReportDecisionsRequestSchema, type ReportedDecisionSchema } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';
import { requestToProto } from './reported-request.js';

/** Options of {@link createDecisionReporter}. */
export interface DecisionReporterOptions {
  readonly client: Client<typeof AnomalyService>;
  /** This resource server's reporter key (its thumbprint registered with the authority). */
  readonly key: KeyPair;
  readonly clock?: Clock;
  /** How often a batch is sent, ms. Default 1000. */
  readonly flushIntervalMs?: number;
  /** Decisions per batch. Default 500. */
  readonly maxBatch?: number;
  /** Distinct tokens per batch. Default 100. */
  readonly maxBatchTokens?: number;
  /** Decisions held at most; newer ones are dropped (and counted) beyond. Default 10 000. */
  readonly maxQueue?: number;
  /** Diagnostics for failed sends. Must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** The defaults of {@link DecisionReporterOptions}. */
export const DECISION_REPORTER_DEFAULTS = Object.freeze({
  flushIntervalMs: 1000,
  maxBatch: 500,
  maxBatchTokens: 100,
  maxQueue: 10_000,
});

/** Counters of a {@link DecisionReporter}. */
export interface DecisionReporterStats {
  readonly sent: number;
  readonly dropped: number;
  readonly failedBatches: number;
}

/** A running reporter. */
export interface DecisionReporter {
  /** The guard's `onDecision` hook. Never throws, never blocks the request. */
  readonly onDecision: (decision: Decision, info: DecisionInfo) => void;
  /** Sends everything queued now. */
  flush(): Promise<void>;
  readonly stats: DecisionReporterStats;
  /** Flushes once more and stops the timer. */
  close(): Promise<void>;
}

interface Queued {
  readonly token: string;
  readonly code: string;
  readonly request: DecisionInfo['request'];
  readonly atMs: number;
}

function positive(v: number | undefined, dflt: number, name: string): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || x < 1) throw new TypeError(`createDecisionReporter: ${name} must be a positive integer`);
  return x;
}

/**
 * Creates a reporter; pass `reporter.onDecision` as the guard's `onDecision` (call the
 * audit hook from the same function when you use both). Only decisions about tokens
 * whose signature verified are reported: nothing else can be attributed to an agent.
 *
 * @example
 * const reporter = createDecisionReporter({ client: createClient(AnomalyService, authority), key: reporterKey });
 * const guard = createGuard({ ...options, onDecision: reporter.onDecision });
 */
export function createDecisionReporter(options: DecisionReporterOptions): DecisionReporter {
  const d = DECISION_REPORTER_DEFAULTS;
  if (typeof options?.client?.reportDecisions !== 'function') throw new TypeError('createDecisionReporter: client must be an AnomalyService client');
  if (typeof options.key?.thumbprint !== 'string') throw new TypeError('createDecisionReporter: key must be a KeyPair');
  const clock = options.clock ?? systemClock;
  const flushIntervalMs = positive(options.flushIntervalMs, d.flushIntervalMs, 'flushIntervalMs');
  const maxBatch = positive(options.maxBatch, d.maxBatch, 'maxBatch');
  const maxBatchTokens = positive(options.maxBatchTokens, d.maxBatchTokens, 'maxBatchTokens');
  const maxQueue = positive(options.maxQueue, d.maxQueue, 'maxQueue');
  const queue: Queued[] = [];
  const stats = { sent: 0, dropped: 0, failedBatches: 0 };
  let sending: Promise<void> = Promise.resolve();
  let closed = false;

  const report = (err: unknown): void => {
    try {
      options.onError?.(err);
    } catch {
      // diagnostics never break the reporter
    }
  };

  /** Takes one batch off the queue: at most maxBatch decisions over at most maxBatchTokens tokens. */
  function nextBatch(): MessageInitShape<typeof ReportDecisionsRequestSchema> | undefined {
    if (queue.length === 0) return undefined;
    const tokens = new Map<string, number>();
    const decisions: MessageInitShape<typeof ReportedDecisionSchema>[] = [];
    let taken = 0;
    for (const q of queue) {
      if (decisions.length >= maxBatch) break;
      let index = tokens.get(q.token);
      if (index === undefined) {
        if (tokens.size >= maxBatchTokens) break;
        index = tokens.size;
        tokens.set(q.token, index);
      }
      decisions.push({
        token: index,
        code: q.code,
        ...(q.request !== undefined && q.code !== '' ? { request: requestToProto(q.request) } : {}),
        atMs: BigInt(q.atMs),
      });
      taken++;
    }
    queue.splice(0, taken);
    return { tokens: [...tokens.keys()], decisions };
  }

  async function sendAll(): Promise<void> {
    for (let batch = nextBatch(); batch !== undefined; batch = nextBatch()) {
      const req = create(ReportDecisionsRequestSchema, batch);
      try {
        await options.client.reportDecisions(req, {
          metadata: keyProofMetadata(options.key, AnomalyService.method.reportDecisions, toBinary(ReportDecisionsRequestSchema, req), clock.now()),
        });
        stats.sent += req.decisions.length;
      } catch (err) {
        stats.failedBatches++;
        stats.dropped += req.decisions.length;
        report(err);
      }
    }
  }

  const flush = (): Promise<void> => {
    sending = sending.then(sendAll);
    return sending;
  };
  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  return {
    onDecision(decision, info) {
      try {
        if (closed || info?.claims === undefined || typeof info.token !== 'string') return;
        if (queue.length >= maxQueue) {
          stats.dropped++;
          return;
        }
        queue.push({ token: info.token, code: decision.allow ? '' : decision.code, request: info.request, atMs: clock.now() });
        if (queue.length >= maxBatch) void flush();
      } catch (err) {
        report(err);
      }
    },
    flush,
    get stats() {
      return { ...stats };
    },
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
}
