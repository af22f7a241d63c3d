import { BatonError, nowSeconds, type Clock } from '@baton/core';
import type { SqlExecutor } from '@baton/store';
import type { RevocationRecord } from './revocation-model.js';
import type { RevocationNotifier } from './revocation-notifier.js';
import { listRevocations, revocationCounters } from './revocation-repo.js';

/** One event of the revocation stream, before it is put on the wire. */
export type WatchEvent =
  | { readonly kind: 'entry'; readonly entry: RevocationRecord }
  | { readonly kind: 'keepAlive'; readonly sequence: number; readonly serverTime: number }
  | { readonly kind: 'snapshotBegin' | 'snapshotEnd'; readonly reset: boolean; readonly sequence: number };

/** What a watcher needs. */
export interface WatchDeps {
  readonly db: SqlExecutor;
  readonly notifier: RevocationNotifier;
  readonly clock: Clock;
  readonly keepAliveMs: number;
  /** Live entries held for one subscriber before it is dropped. */
  readonly bufferLimit: number;
  /** Rows read per query. Default 1000. */
  readonly pageSize?: number;
}

/** Reads `after < seq <= upTo` page by page. */
async function* readRange(db: SqlExecutor, after: number, upTo: number, pageSize: number): AsyncGenerator<RevocationRecord> {
  let cursor = after;
  while (cursor < upTo) {
    const page = await listRevocations(db, cursor, upTo, pageSize);
    if (page.length === 0) return;
    yield* page;
    cursor = page[page.length - 1]!.seq;
    if (page.length < pageSize) return;
  }
}

/**
 * The snapshot a subscriber resuming after `from` needs: the entries after it, or, when
 * entries after it were already pruned (or `from` is ahead of this store), every stored
 * entry with `reset` set. The pruned watermark is read again after the rows, so pruning
 * that raced the read turns the snapshot into a reset instead of silently losing entries.
 */
async function snapshot(db: SqlExecutor, from: number, pageSize: number): Promise<{ reset: boolean; upTo: number; rows: RevocationRecord[] }> {
  const before = await revocationCounters(db);
  const upTo = before.newest;
  if (from >= before.pruned && from <= upTo) {
    const rows: RevocationRecord[] = [];
    for await (const r of readRange(db, from, upTo, pageSize)) rows.push(r);
    const after = await revocationCounters(db);
    if (from >= after.pruned) return { reset: false, upTo, rows };
  }
  const rows: RevocationRecord[] = [];
  for await (const r of readRange(db, 0, upTo, pageSize)) rows.push(r);
  return { reset: true, upTo, rows };
}

/**
 * One WatchRevocations subscription: snapshot since `from` (markers around it), then live
 * entries in sequence order without gaps or duplicates (gaps are filled from the store,
 * repeats dropped), and a keep-alive every `keepAliveMs` that says "you have everything up
 * to this sequence". Live entries wait in a bounded buffer; a subscriber that falls
 * `bufferLimit` entries behind is dropped with ERR_UNAVAILABLE (it resumes from its last
 * sequence) rather than growing memory. Ends when `signal` aborts.
 */
export async function* watchRevocations(deps: WatchDeps, from: number, signal: AbortSignal): AsyncGenerator<WatchEvent> {
  const pageSize = deps.pageSize ?? 1000;
  const buffer: RevocationRecord[] = [];
  let overflow = false;
  let tick = false;
  let wake: (() => void) | undefined;
  const poke = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  // Subscribe before reading the snapshot, so nothing committed in between is missed.
  const unsubscribe = deps.notifier.subscribe((entry) => {
    if (overflow) return;
    if (buffer.length >= deps.bufferLimit) {
      overflow = true;
      buffer.length = 0;
      unsubscribe();
    } else buffer.push(entry);
    poke();
  });
  const timer = setInterval(() => {
    tick = true;
    poke();
  }, deps.keepAliveMs);
  timer.unref();
  signal.addEventListener('abort', poke);

  let last = 0;
  async function* fill(upTo: number): AsyncGenerator<WatchEvent> {
    for await (const entry of readRange(deps.db, last, upTo, pageSize)) {
      last = entry.seq;
      yield { kind: 'entry', entry };
    }
    // Whatever is missing below upTo was pruned (expired): nothing to deliver.
    if (last < upTo) last = upTo;
  }

  try {
    const snap = await snapshot(deps.db, from, pageSize);
    yield { kind: 'snapshotBegin', reset: snap.reset, sequence: snap.upTo };
    for (const entry of snap.rows) yield { kind: 'entry', entry };
    yield { kind: 'snapshotEnd', reset: snap.reset, sequence: snap.upTo };
    last = snap.upTo;

    while (!signal.aborted) {
      if (overflow) throw new BatonError('ERR_UNAVAILABLE', 'revocation subscriber fell too far behind');
      if (buffer.length > 0) {
        const batch = buffer.splice(0).sort((a, b) => a.seq - b.seq);
        for (const entry of batch) {
          if (entry.seq <= last) continue;
          if (entry.seq > last + 1) yield* fill(entry.seq - 1);
          if (entry.seq <= last) continue;
          last = entry.seq;
          yield { kind: 'entry', entry };
        }
        continue;
      }
      if (tick) {
        tick = false;
        const { newest } = await revocationCounters(deps.db);
        if (newest > last) yield* fill(newest);
        yield { kind: 'keepAlive', sequence: last, serverTime: nowSeconds(deps.clock) };
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    unsubscribe();
    clearInterval(timer);
    signal.removeEventListener('abort', poke);
  }
}
