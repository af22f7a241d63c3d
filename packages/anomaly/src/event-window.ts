/**
 * Bounded counters behind the anomaly rules, keyed by agent or token. Memory is flat: at
 * most `maxKeys` keys (least recently used dropped first), and per key either the last
 * `count` event times (exact windows) or sixty one-second buckets (request rate).
 */
import { LruMap } from '@baton/guard';

/** Exact "N events within W" over the last N event times per key. */
export class RecentEvents {
  readonly #keys: LruMap<string, number[]>;

  constructor(maxKeys: number) {
    this.#keys = new LruMap(maxKeys);
  }

  /** Records an event at `nowMs`; true when `count` events (this one included) fall within `windowMs`. */
  hit(key: string, nowMs: number, count: number, windowMs: number): boolean {
    let times = this.#keys.get(key);
    if (times === undefined) {
      times = [];
      this.#keys.set(key, times);
    }
    times.push(nowMs);
    // Only the latest `count` matter: the oldest of them decides.
    if (times.length > count) times.splice(0, times.length - count);
    return times.length >= count && nowMs - times[0]! < windowMs;
  }

  /** Forgets a key (after acting on it). */
  forget(key: string): void {
    this.#keys.delete(key);
  }

  get size(): number {
    return this.#keys.size;
  }
}

interface Buckets {
  readonly counts: Uint32Array;
  second: number;
}

/** Events per key over the last 60 s, counted in one-second steps. */
export class MinuteRate {
  readonly #keys: LruMap<string, Buckets>;

  constructor(maxKeys: number) {
    this.#keys = new LruMap(maxKeys);
  }

  /** Records an event at `nowMs` and returns the count over the last 60 s. */
  hit(key: string, nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    let b = this.#keys.get(key);
    if (b === undefined) {
      b = { counts: new Uint32Array(60), second };
      this.#keys.set(key, b);
    }
    // Clear the buckets of the seconds that passed since the last event.
    const gap = Math.min(60, Math.max(0, second - b.second));
    for (let i = 1; i <= gap; i++) b.counts[(b.second + i) % 60] = 0;
    if (second > b.second) b.second = second;
    // A late event older than the window no longer counts.
    if (second > b.second - 60) b.counts[second % 60]! += 1;
    let total = 0;
    for (const c of b.counts) total += c;
    return total;
  }

  forget(key: string): void {
    this.#keys.delete(key);
  }

  get size(): number {
    return this.#keys.size;
  }
}
