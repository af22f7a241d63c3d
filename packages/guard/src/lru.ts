/**
 * A small bounded LRU map. The guard keeps verified tokens and holder keys in these so
 * memory stays flat no matter how many distinct tokens or keys an attacker sends.
 */

/** A size-bounded map that evicts the least recently used entry first. */
export class LruMap<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  /** @param maxEntries upper bound on entries; 0 disables caching entirely. */
  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 0) throw new TypeError('maxEntries must be a non-negative integer');
    this.#max = maxEntries;
  }

  /** Current number of entries. */
  get size(): number {
    return this.#map.size;
  }

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v === undefined) return undefined;
    // Re-insert so Map iteration order (oldest first) tracks recency.
    this.#map.delete(key);
    this.#map.set(key, v);
    return v;
  }

  /** Stores `value`, evicting the oldest entry when full. */
  set(key: K, value: V): void {
    if (this.#max === 0) return;
    if (this.#map.has(key)) this.#map.delete(key);
    else if (this.#map.size >= this.#max) {
      const oldest = this.#map.keys().next();
      if (!oldest.done) this.#map.delete(oldest.value);
    }
    this.#map.set(key, value);
  }

  /** Removes `key`. */
  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Removes every entry. */
  clear(): void {
    this.#map.clear();
  }
}
