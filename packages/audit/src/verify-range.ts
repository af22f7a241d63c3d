/**
 * One worker's share of a parallel verification: the hash chain of entries [from, to] of
 * a SQLite audit file. Intact rows are checked straight from the stored values (no entry
 * objects); at the first row that is not exactly right, {@link verifyEntries} takes over
 * a window before it, so the failure is named and classified exactly as a pass over the
 * whole range would.
 */
import { hashCanonicalEntry, leafHashOf } from './entry-hash.js';
import { canonicalRow } from './row-hash.js';
import type { SqliteAuditStore } from './sqlite-store.js';
import { verifyEntries, type VerifyFailure } from './verify-entries.js';

/** Result of {@link verifyRange}. */
export interface RangeReport {
  /** Entries checked before stopping. */
  readonly entries: number;
  /** Sequence of the last good entry (from - 1 when none). */
  readonly lastSequence: number;
  readonly firstBad?: VerifyFailure;
}

/** Options of {@link verifyRange}. */
export interface VerifyRangeOptions {
  readonly from: number;
  readonly to: number;
  /** Event hash of entry from - 1 (the zero hash for 1). */
  readonly prevHash: string;
  /** Sees the Merkle leaf hash of every verified entry, in order (only valid during the call). */
  readonly onLeaf: (leafHash: Buffer) => void;
  readonly onProgress?: (checked: number) => void;
  readonly progressEvery?: number;
}

// verifyEntries' classification window; the hand-over starts this far back (plus one).
const WINDOW = 32;
const RING = 64;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Verifies entries [from, to] of `store`; entries after `to` are only read as look-ahead
 * when classifying a break. A missing tail is reported as `deleted`.
 */
export async function verifyRange(store: SqliteAuditStore, opts: VerifyRangeOptions): Promise<RangeReport> {
  const { from, to, onLeaf } = opts;
  const every = opts.progressEvery ?? 50_000;
  // Event hashes of the latest good entries, by sequence modulo RING.
  const ring: string[] = new Array<string>(RING);
  let prev = opts.prevHash;
  let expected = from;
  for (const v of store.rowsSync(from, to)) {
    const hash = v[4];
    // Only rows that verify exactly pass here; anything else is re-read by verifyEntries.
    if (v[0] !== expected || v[3] !== prev || typeof hash !== 'string' || !HEX64.test(hash)) break;
    if (hashCanonicalEntry(canonicalRow(v)) !== hash) break;
    onLeaf(leafHashOf(hash));
    ring[expected % RING] = hash;
    prev = hash;
    expected++;
    if ((expected - from) % every === 0) opts.onProgress?.(expected - from);
  }
  if (expected > to) {
    opts.onProgress?.(expected - from);
    return { entries: expected - from, lastSequence: to };
  }

  // Re-verify from a window before the break, so the look-back state matches a full pass.
  const k = expected;
  const start = Math.max(from, k - WINDOW - 1);
  const startPrev = start === from ? opts.prevHash : ring[(start - 1) % RING]!;
  const report = await verifyEntries(store.iterateSync(start, to + 2 * WINDOW), {
    start: { sequence: start, prevHash: startPrev },
    last: to,
    tree: false,
    window: WINDOW,
    progressEvery: every,
    ...(opts.onProgress ? { onProgress: (c: number) => opts.onProgress!(start - from + c) } : {}),
    onVerified: (e, leaf) => {
      if (e.sequence >= k) onLeaf(leaf);
    },
  });
  let firstBad = report.firstBad;
  if (!firstBad && report.lastSequence < to) {
    const s = report.lastSequence + 1;
    firstBad = { sequence: s, problem: 'deleted', detail: `entries ${s}..${to} are missing` };
  }
  return { entries: start - from + report.entries, lastSequence: report.lastSequence, ...(firstBad ? { firstBad } : {}) };
}
