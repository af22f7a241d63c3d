/**
 * A bounded single-use memory: remembers keys (e.g. `jkt:jti` of a proof) until they
 * expire, and answers whether a key was already seen.
 *
 * Expired entries are pruned lazily by whole-second buckets kept in a min-heap of
 * bucket times, so each entry is removed once: amortised O(1) per call (plus
 * O(log buckets), and buckets number about the acceptance window in seconds). When the
 * cache is full of live entries it refuses new ones rather than evicting any: evicting
 * a live entry would let that value be replayed.
 */

/** Options of {@link ReplayCache}. */
export interface ReplayCacheOptions {
  /** Most live entries held; beyond it `checkAndAdd` answers `'full'`. Default 100 000. */
  maxEntries?: number;
}

/** Defaults of {@link ReplayCacheOptions}. */
export const REPLAY_CACHE_DEFAULTS = Object.freeze({ maxEntries: 100_000 });

/** Outcome of {@link ReplayCache.checkAndAdd}. */
export type ReplayCheck = 'fresh' | 'replayed' | 'full';

/**
 * Single-use check with bounded memory.
 *
 * @example
 * const cache = new ReplayCache();
 * cache.checkAndAdd('jkt:jti', nowMs + 65_000, nowMs); // 'fresh'
 * cache.checkAndAdd('jkt:jti', nowMs + 65_000, nowMs); // 'replayed'
 */
export class ReplayCache {
  readonly #max: number;
  /** key → expiry (ms). */
  readonly #entries = new Map<string, number>();
  /** bucket second → keys whose expiry falls in that second. */
  readonly #buckets = new Map<number, string[]>();
  /** Min-heap of bucket seconds present in #buckets. */
  readonly #heap: number[] = [];

  constructor(opts?: ReplayCacheOptions) {
    const max = opts?.maxEntries ?? REPLAY_CACHE_DEFAULTS.maxEntries;
    if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('maxEntries must be a positive integer');
    this.#max = max;
  }

  /** Entries held, including expired ones not yet pruned. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Records `key` until `expiresAtMs` unless it is already held and live.
   * Returns `'fresh'` (recorded, first use), `'replayed'` (seen and not expired) or
   * `'full'` (not recorded: the cache holds `maxEntries` live entries; the caller must
   * refuse the request).
   */
  checkAndAdd(key: string, expiresAtMs: number, nowMs: number): ReplayCheck {
    if (typeof key !== 'string') throw new TypeError('key must be a string');
    if (!Number.isFinite(expiresAtMs) || !Number.isFinite(nowMs)) throw new TypeError('times must be finite numbers');
    this.prune(nowMs);
    const seen = this.#entries.get(key);
    if (seen !== undefined && seen > nowMs) return 'replayed';
    // Already past its window: nothing to remember, a later use is stale anyway.
    if (expiresAtMs <= nowMs) return 'fresh';
    if (seen === undefined && this.#entries.size >= this.#max) return 'full';
    this.#entries.set(key, expiresAtMs);
    const second = Math.ceil(expiresAtMs / 1000);
    const bucket = this.#buckets.get(second);
    if (bucket) bucket.push(key);
    else {
      this.#buckets.set(second, [key]);
      this.#heapPush(second);
    }
    return 'fresh';
  }

  /** Drops every entry that expired at or before `nowMs`. */
  prune(nowMs: number): void {
    const heap = this.#heap;
    // Bucket `s` holds expiries in ((s-1)*1000, s*1000], all expired once now >= s*1000.
    while (heap.length > 0 && heap[0]! * 1000 <= nowMs) {
      const second = this.#heapPop();
      for (const key of this.#buckets.get(second) ?? []) {
        const exp = this.#entries.get(key);
        // The key may have been re-added later with a new expiry (in another bucket).
        if (exp !== undefined && exp <= nowMs) this.#entries.delete(key);
      }
      this.#buckets.delete(second);
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.#entries.clear();
    this.#buckets.clear();
    this.#heap.length = 0;
  }

  #heapPush(v: number): void {
    const h = this.#heap;
    let i = h.push(v) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]! <= v) break;
      h[i] = h[parent]!;
      i = parent;
    }
    h[i] = v;
  }

  #heapPop(): number {
    const h = this.#heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && h[r]! < h[l]! ? r : l;
        if (h[c]! >= last) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}
