/**
 * Aggregation of repetitive successful reads, on the client before the spool: within a
 * window, allowed reads by the same agent of the same resource with the same action
 * (and same source, task, workflow, orchestration and principal) become one entry with
 * a count and the first/last times. Failures, writes, delegations and every other event
 * type are never aggregated.
 *
 * It lives client-side because that is where the repetition is (a guard checking the
 * same token thousands of times) and where it saves the most (spool, network, log).
 * The cost: aggregated reads are held in memory for up to one window before they reach
 * the durable spool.
 */
import type { Clock } from '@baton/core';
import type { AuditEventInput } from './event.js';

/** Actions treated as reads by default (case-insensitive). */
export const DEFAULT_READ_ACTIONS: ReadonlySet<string> = new Set(['read', 'get', 'list', 'query', 'search', 'view', 'describe', 'head', 'fetch']);

/** Options of {@link createReadAggregator}. */
export interface ReadAggregatorOptions {
  /** Window length. Default 1000 ms. */
  readonly windowMs?: number;
  /** Distinct keys held at once; when full, everything is flushed. Default 10 000. */
  readonly maxKeys?: number;
  /** Decides which events are aggregatable reads. Default: `validation.allowed` with a read action. */
  readonly isRead?: (e: AuditEventInput) => boolean;
  readonly clock: Clock;
  /** Receives aggregated (or single) events when their window closes. */
  readonly flush: (events: AuditEventInput[]) => void;
}

/** Holds reads until their window closes. */
export interface ReadAggregator {
  /** True when the event was absorbed (it will come out of `flush` later). */
  offer(e: AuditEventInput): boolean;
  /** Flushes windows that have closed by now. */
  sweep(): void;
  /** Flushes everything held. */
  flushAll(): void;
  /** Events held. */
  readonly held: number;
}

/** Default read test: an allowed validation whose action is a read. */
export function isAggregatableRead(e: AuditEventInput): boolean {
  return e.type === 'validation.allowed' && (e.outcome ?? 'allow') === 'allow' && DEFAULT_READ_ACTIONS.has((e.action ?? '').toLowerCase());
}

interface Group {
  readonly first: AuditEventInput;
  count: number;
  lastTime: number;
  readonly openedAt: number;
}

/** Creates an aggregator; call `sweep()` periodically (the audit client does). */
export function createReadAggregator(options: ReadAggregatorOptions): ReadAggregator {
  const windowMs = options.windowMs ?? 1000;
  const maxKeys = options.maxKeys ?? 10_000;
  const isRead = options.isRead ?? isAggregatableRead;
  const groups = new Map<string, Group>();
  let held = 0;

  const out = (g: Group): AuditEventInput =>
    g.count === 1 ? g.first : { ...g.first, count: g.count, firstTime: g.first.time, lastTime: g.lastTime };
  const emit = (list: Group[]): void => {
    if (list.length === 0) return;
    held -= list.reduce((n, g) => n + g.count, 0);
    options.flush(list.map(out));
  };

  return {
    offer(e) {
      if (!isRead(e) || (e.count ?? 1) > 1) return false;
      const key = JSON.stringify([e.source, e.agent, e.action, e.resource, e.task, e.workflow, e.orchestration, e.principal]);
      const g = groups.get(key);
      if (g) {
        g.count++;
        g.lastTime = Math.max(g.lastTime, e.time);
      } else {
        if (groups.size >= maxKeys) this.flushAll();
        groups.set(key, { first: e, count: 1, lastTime: e.time, openedAt: options.clock.now() });
      }
      held++;
      return true;
    },
    sweep() {
      const now = options.clock.now();
      const due: Group[] = [];
      for (const [k, g] of groups) {
        if (now - g.openedAt >= windowMs) {
          due.push(g);
          groups.delete(k);
        }
      }
      emit(due);
    },
    flushAll() {
      const all = [...groups.values()];
      groups.clear();
      emit(all);
    },
    get held() {
      return held;
    },
  };
}
