/**
 * A bounded map that forgets the least recently used entry first (Map keeps insertion
 * order; a hit moves the entry to the end). Caches here never grow without limit.
 */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  /** `max` entries at most; 0 keeps nothing. */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 0) throw new TypeError('LruCache: max must be a non-negative integer');
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  set(key: K, value: V): void {
    if (this.#max === 0) return;
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as K);
  }
}
