/**
 * Bounded counters behind the anomaly rules, keyed by agent or token. Memory is flat: at
 * most `maxKeys` keys (least recently used dropped first), and per key either the last
 * `count` event times (exact windows) or sixty one-second buckets (request rate). With a
 * clock, a key also goes once its window has passed without events, so quiet keys do not
 * sit until newer ones push them out.
 */
import type { Clock } from '@baton/core';
import { LruMap } from '@baton/guard';

/** Exact "N events within W" over the last N event times per key. */
export class RecentEvents {
  readonly #keys: LruMap<string, number[]>;
  readonly #expires: boolean;

  constructor(maxKeys: number, clock?: Clock) {
    this.#keys = new LruMap(maxKeys, clock ? { clock } : {});
    this.#expires = clock !== undefined;
  }

  /** Records an event at `nowMs`; true when `count` events (this one included) fall within `windowMs`. */
  hit(key: string, nowMs: number, count: number, windowMs: number): boolean {
    const times = this.#keys.get(key) ?? [];
    times.push(nowMs);
    // Only the latest `count` matter: the oldest of them decides.
    if (times.length > count) times.splice(0, times.length - count);
    // Nothing of this key matters once the window has passed its latest event.
    this.#keys.set(key, times, this.#expires ? Math.max(...times) + windowMs : undefined);
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
  readonly #expires: boolean;

  constructor(maxKeys: number, clock?: Clock) {
    this.#keys = new LruMap(maxKeys, clock ? { clock } : {});
    this.#expires = clock !== undefined;
  }

  /** Records an event at `nowMs` and returns the count over the last 60 s. */
  hit(key: string, nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    let b = this.#keys.get(key);
    if (b === undefined) b = { counts: new Uint32Array(60), second };
    // Clear the buckets of the seconds that passed since the last event.
    const gap = Math.min(60, Math.max(0, second - b.second));
    for (let i = 1; i <= gap; i++) b.counts[(b.second + i) % 60] = 0;
    if (second > b.second) b.second = second;
    // A minute after the latest second with events, nothing is left to count.
    this.#keys.set(key, b, this.#expires ? (b.second + 61) * 1000 : undefined);
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
