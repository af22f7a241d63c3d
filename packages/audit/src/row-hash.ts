/**
 * The canonical text of an entry straight from a stored row, for offline verification:
 * the same string as `canonicalEntry(valuesToEntry(row))`, without building the entry
 * object or parsing the JSON columns of every row (logs repeat a few attribute sets, so
 * their canonical form is cached by stored text).
 */
import { canonicalJson } from '@baton/core';
import { ENTRY_FORMAT_VERSION, canonicalAttributes, canonicalEntry, jsonString } from './entry-hash.js';
import { decodeAgents, decodeAttributes, valuesToEntry } from './row-codec.js';

// Column positions in ENTRY_COLUMNS order.
const NUMBER_COLUMNS = [0, 2, 5, 18, 23, 24, 26, 27, 28] as const;
const TEXT_COLUMNS = [1, 3, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 21, 22] as const;

const CACHE_LIMIT = 512;
const CACHEABLE_LENGTH = 4096;

/** Canonical JSON of a decoded JSON column, memoized by the stored text (a pure function of it). */
class ColumnCanonicalizer {
  readonly #cache = new Map<string, string>();
  readonly #canonical: (stored: string) => string;
  constructor(canonical: (stored: string) => string) {
    this.#canonical = canonical;
  }
  of(stored: string): string {
    const hit = this.#cache.get(stored);
    if (hit !== undefined) return hit;
    const out = this.#canonical(stored);
    if (stored.length <= CACHEABLE_LENGTH) {
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(stored, out);
    }
    return out;
  }
}

const agentsText = new ColumnCanonicalizer((s) => {
  const a = decodeAgents(s);
  return a.length === 0 ? '[]' : canonicalJson(a);
});
const attributesText = new ColumnCanonicalizer((s) => canonicalAttributes(decodeAttributes(s)));

/** Canonical JSON of a stored `intermediate_agents` text, as {@link canonicalRow} embeds it. */
export const canonicalAgentsColumn = (stored: string): string => agentsText.of(stored);

/** Canonical JSON of a stored `attributes` text, as {@link canonicalRow} embeds it. */
export const canonicalAttributesColumn = (stored: string): string => attributesText.of(stored);

/**
 * `canonicalEntry(valuesToEntry(values))` for a row given in ENTRY_COLUMNS order. Rows
 * whose columns do not have the stored types (numbers, strings) take that general path,
 * so the result is the same for every input, tampered or not.
 */
export function canonicalRow(v: readonly unknown[]): string {
  for (const i of NUMBER_COLUMNS) if (typeof v[i] !== 'number') return canonicalEntry(valuesToEntry(v));
  for (const i of TEXT_COLUMNS) if (typeof v[i] !== 'string') return canonicalEntry(valuesToEntry(v));
  const agents = v[20];
  const attrs = v[25];
  if (typeof agents !== 'string' || typeof attrs !== 'string') return canonicalEntry(valuesToEntry(v));
  const q = jsonString as (s: unknown) => string; // every text column was checked to be a string
  const n = String;
  return (
    `{"action":${q(v[14])},"agent":${q(v[9])},"attributes":${attributesText.of(attrs)},"chain_hash":${q(v[19])}` +
    `,"count":${n(v[26])},"delegation_depth":${n(v[18])},"event_id":${q(v[1])},"first_time":${n(v[27])}` +
    `,"intermediate_agents":${agentsText.of(agents)},"last_time":${n(v[28])},"logged_at":${n(v[2])}` +
    `,"orchestration":${q(v[11])},"outcome":${q(v[8])},"prev_hash":${q(v[3])},"principal":${q(v[13])}` +
    `,"reason_code":${q(v[16])},"reason_detail":${q(v[17])},"request_bytes":${n(v[23])},"resource":${q(v[15])}` +
    `,"sequence":${n(v[0])},"source":${q(v[7])},"span_id":${q(v[22])},"task":${q(v[10])},"time":${n(v[5])}` +
    `,"token_bytes":${n(v[24])},"trace_id":${q(v[21])},"type":${q(v[6])},"v":${ENTRY_FORMAT_VERSION},"workflow":${q(v[12])}}`
  );
}
