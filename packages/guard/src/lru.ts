/**
 * A small bounded LRU map whose entries may also expire. The guard keeps verified tokens
 * and holder keys in these: the size bound keeps memory flat no matter how many distinct
 * tokens or keys an attacker sends, and expiry drops what can no longer be used (an
 * expired token, the key of a holder whose tokens all expired) instead of leaving it to
 * sit until enough newer entries push it out.
 */
import type { Clock } from '@baton/core';

/** Options of {@link LruMap} for entries that expire. */
export interface LruExpiryOptions {
  /** Time source for expiry. Without one, entries never expire. */
  readonly clock?: Clock;
  /** Least time between two automatic sweeps, ms. Default 1000. */
  readonly sweepIntervalMs?: number;
  /** Most entries one automatic sweep looks at. Default 1024. */
  readonly sweepBudget?: number;
}

interface Entry<V> {
  readonly value: V;
  /** Epoch ms at which the entry is gone; Infinity for never. */
  expiresAt: number;
}

/**
 * A size-bounded map that evicts the least recently used entry first. Entries stored with
 * an expiry are gone from that instant: a lookup never returns them, and an amortized
 * sweep (at most every `sweepIntervalMs`, at most `sweepBudget` entries, on any lookup or
 * store) deletes them so their memory is actually released.
 */
export class LruMap<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, Entry<V>>();
  readonly #clock: Clock | undefined;
  readonly #sweepIntervalMs: number;
  readonly #sweepBudget: number;
  /** Where the incremental sweep resumes: successive sweeps walk the map round-robin. */
  #cursor: Iterator<[K, Entry<V>]> | undefined;
  #lastSweep = Number.NEGATIVE_INFINITY;
  /** False until an entry with a finite expiry is stored: plain LRU use never sweeps. */
  #expiring = false;

  /**
   * @param maxEntries upper bound on entries; 0 disables caching entirely.
   * @param options a clock, needed for entries that expire.
   */
  constructor(maxEntries: number, options: LruExpiryOptions = {}) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('maxEntries must be a non-negative integer');
    const { clock, sweepIntervalMs = 1000, sweepBudget = 1024 } = options;
    if (!Number.isInteger(sweepIntervalMs) || sweepIntervalMs < 0) throw new TypeError('sweepIntervalMs must be a non-negative integer');
    if (!Number.isInteger(sweepBudget) || sweepBudget < 1) throw new TypeError('sweepBudget must be a positive integer');
    this.#max = maxEntries;
    this.#clock = clock;
    this.#sweepIntervalMs = sweepIntervalMs;
    this.#sweepBudget = sweepBudget;
  }

  /** Current number of entries (expired ones not yet swept included). */
  get size(): number {
    return this.#map.size;
  }

  /**
   * The value for `key`, marking it most recently used; undefined when absent or expired.
   * With `extendTo`, the entry lives at least until that instant (epoch ms).
   */
  get(key: K, extendTo?: number): V | undefined {
    const now = this.#now();
    this.#maybeSweep(now);
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    // Re-insert so Map iteration order (oldest first) tracks recency.
    this.#map.delete(key);
    if (e.expiresAt <= now) return undefined;
    if (extendTo !== undefined && extendTo > e.expiresAt) e.expiresAt = extendTo;
    this.#map.set(key, e);
    return e.value;
  }

  /**
   * Stores `value`, evicting the least recently used entry when full. With `expiresAt`
   * (epoch ms; needs a clock) the entry is gone from that instant; an already expired
   * entry is not stored.
   */
  set(key: K, value: V, expiresAt = Number.POSITIVE_INFINITY): void {
    if (this.#max === 0) return;
    if (expiresAt !== Number.POSITIVE_INFINITY) {
      if (this.#clock === undefined) throw new TypeError('LruMap: entries that expire need a clock');
      this.#expiring = true;
    }
    const now = this.#now();
    this.#maybeSweep(now);
    if (this.#map.has(key)) this.#map.delete(key);
    if (expiresAt <= now) return;
    if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(key, { value, expiresAt });
  }

  /** Removes `key`. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
    this.#cursor = undefined;
  }

  /**
   * Deletes expired entries, looking at no more than `budget` of them (resuming where the
   * previous sweep stopped). Returns how many it deleted. Runs by itself; exposed for tests.
   */
  sweep(budget: number = this.#map.size): number {
    const now = this.#now();
    let removed = 0;
    let wrapped = false;
    for (let seen = 0; seen < budget; ) {
      // A Map iterator stays valid across deletes and inserts, so it can be kept between sweeps.
      this.#cursor ??= this.#map.entries();
      const next = this.#cursor.next();
      if (next.done === true) {
        this.#cursor = undefined;
        // Start over from the oldest entry at most once per sweep (a small map is not re-read).
        if (wrapped) break;
        wrapped = true;
        continue;
      }
      seen++;
      const [k, e] = next.value;
      if (e.expiresAt <= now) {
        this.#map.delete(k);
        removed++;
      }
    }
    return removed;
  }

  /** Runs the amortized sweep if it is due: for owners that want memory released even when this map is not being read. */
  sweepIfDue(): void {
    if (this.#expiring) this.#maybeSweep(this.#now());
  }

  #now(): number {
    return this.#clock === undefined ? 0 : this.#clock.now();
  }

  #maybeSweep(now: number): void {
    // A clock that went backwards sweeps at once (and restarts the interval from there).
    if (!this.#expiring || (now >= this.#lastSweep && now - this.#lastSweep < this.#sweepIntervalMs)) return;
    this.#lastSweep = now;
    this.sweep(this.#sweepBudget);
  }
}
