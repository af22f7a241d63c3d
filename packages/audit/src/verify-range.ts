/**
 * One worker's share of a parallel verification: the hash chain of entries [from, to] of
 * a SQLite audit file. Intact rows are checked from their canonical text as SQLite
 * assembles it (no entry objects, see {@link RowTextReader}); at the first row that is
 * not exactly right, {@link verifyEntries} takes over a window before it, so the failure
 * is named and classified exactly as a pass over the whole range would.
 */
import { ZERO_HASH, hashCanonicalEntry } from './entry-hash.js';
import type { RowTextReader } from './row-text-reader.js';
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
  /** Sees the event hash of every verified entry, in order (its Merkle leaf is `SHA-256(0x00 || hash)`). */
  readonly onVerified: (eventHashHex: string) => void;
  readonly onProgress?: (checked: number) => void;
  readonly progressEvery?: number;
}

// verifyEntries' classification window; the hand-over starts this far back (plus one).
const WINDOW = 32;
const RING = 64;
// Rows per query: large enough that the per-statement cost vanishes, small enough to
// keep the garbage of one page young.
const PAGE = 2000;

/**
 * Verifies entries [from, to] of `store`, reading intact rows through `reader` (on the
 * same file); entries after `to` are only read as look-ahead when classifying a break.
 * A missing tail is reported as `deleted`.
 */
export async function verifyRange(store: SqliteAuditStore, reader: RowTextReader, opts: VerifyRangeOptions): Promise<RangeReport> {
  const { from, to, onVerified } = opts;
  const every = opts.progressEvery ?? 50_000;
  // Event hashes of the latest good entries, by sequence modulo RING.
  const ring: string[] = new Array<string>(RING);
  let prev = opts.prevHash;
  let expected = from;
  scan: while (expected <= to) {
    const rows = reader.page(expected, to, PAGE);
    for (const r of rows) {
      const hash = r[2];
      // Only rows that verify exactly pass here; anything else is re-read by verifyEntries.
      // A computed hash is 64 lowercase hex digits, so equality also checks the stored form.
      if (r[0] !== expected || r[1] !== prev || typeof hash !== 'string') break scan;
      if (hashCanonicalEntry(reader.text(r)) !== hash && hashCanonicalEntry(reader.fullText(expected)) !== hash) break scan;
      onVerified(hash);
      ring[expected % RING] = hash;
      prev = hash;
      expected++;
      if ((expected - from) % every === 0) opts.onProgress?.(expected - from);
    }
    if (rows.length < PAGE) break;
  }
  if (expected > to) {
    opts.onProgress?.(expected - from);
    return { entries: expected - from, lastSequence: to };
  }

  // Re-verify from a window before the break, so the look-back state matches a full pass;
  // near the start of the range that window reaches into the previous range, whose
  // entries verify there (else its own failure comes first and this one is not reported).
  const k = expected;
  const start = Math.max(1, k - WINDOW - 1);
  let startPrev: string;
  if (start >= from) startPrev = start === from ? opts.prevHash : ring[(start - 1) % RING]!;
  else startPrev = start === 1 ? ZERO_HASH : ((await store.get(start - 1))?.eventHash ?? '');
  const report = await verifyEntries(store.iterateSync(start, to + 2 * WINDOW), {
    start: { sequence: start, prevHash: startPrev },
    last: to,
    tree: false,
    window: WINDOW,
    progressEvery: every,
    ...(opts.onProgress ? { onProgress: (c: number) => opts.onProgress!(Math.max(0, start - from + c)) } : {}),
    onVerified: (e) => {
      if (e.sequence >= k) onVerified(e.eventHash);
    },
  });
  let firstBad = report.firstBad;
  if (!firstBad && report.lastSequence < to) {
    const s = report.lastSequence + 1;
    firstBad = { sequence: s, problem: 'deleted', detail: `entries ${s}..${to} are missing` };
  }
  return { entries: start - from + report.entries, lastSequence: report.lastSequence, ...(firstBad ? { firstBad } : {}) };
}
