/**
 * Explains a break in the hash chain: given the first entry that does not fit, decide
 * whether entries were modified, deleted, reordered or inserted, and which one to name.
 *
 * The sequence is part of each entry's hashed encoding, so an entry moved to another
 * position still hashes correctly under its *original* sequence; trying the nearby
 * sequences tells a moved entry (insertion before it, deletion before it, or a swap)
 * from an edited one.
 */
import { computeEventHash } from './entry-hash.js';
import type { AuditEntry } from './event.js';
import type { VerifyFailure } from './verify-entries.js';

/** What the verifier knows at the break. */
export interface BreakContext {
  /** The first entry that does not fit. */
  readonly entry: AuditEntry;
  /** The sequence expected at this position. */
  readonly expected: number;
  /** Event hash of the last good entry (what `entry.prevHash` should be). */
  readonly prevHash: string;
  /** Event hashes of the good entries before that, newest first (recent[0] is entry s-2). */
  readonly recent: readonly string[];
  /** True when `entry` hashes correctly under its stored sequence. */
  readonly intact: boolean;
  /** The entries after it, in storage order. */
  readonly ahead: readonly AuditEntry[];
  /** How many positions to search either side. */
  readonly window: number;
}

const fitsAt = (e: AuditEntry, sequence: number): boolean => computeEventHash({ ...e, sequence }) === e.eventHash;
// Event hash of the good entry k positions back (k = 1: the last good entry).
const hashAt = (ctx: BreakContext, k: number): string | undefined => (k === 1 ? ctx.prevHash : ctx.recent[k - 2]);
const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** Classifies the break described by `ctx` into the first bad entry and its problem. */
export function classifyBreak(ctx: BreakContext): VerifyFailure {
  const { entry: e, expected: s } = ctx;
  if (e.sequence > s) {
    return { sequence: s, problem: 'deleted', detail: e.sequence === s + 1 ? `entry ${s} is missing` : `entries ${s}..${e.sequence - 1} are missing` };
  }
  if (e.sequence < s) {
    return { sequence: e.sequence, problem: 'reordered', detail: `sequence ${e.sequence} appears after ${s - 1}` };
  }

  if (ctx.intact) {
    // The entry is self-consistent but does not link to its predecessor.
    if (ctx.recent.length > 0 && e.prevHash === ctx.recent[0]) {
      return { sequence: s - 1, problem: 'inserted', detail: `entry ${s} links to entry ${s - 2}: entry ${s - 1} was inserted` };
    }
    if (ctx.recent.length > 0) {
      // Most likely the previous entry was edited and re-hashed; this one still points at
      // the original.
      return { sequence: s - 1, problem: 'modified', detail: `entry ${s} does not link to entry ${s - 1}: its event hash was changed` };
    }
    return { sequence: s, problem: 'modified', detail: `entry ${s} does not link to its predecessor` };
  }

  for (let d = 1; d <= ctx.window; d++) {
    if (s - d >= 1 && fitsAt(e, s - d)) {
      // Written as s-d. A second copy of the entry already verified there, or the real
      // one with d insertions before it (then it still links to the entry at s-d-1).
      if (hashAt(ctx, d) !== e.eventHash && hashAt(ctx, d + 1) === e.prevHash) {
        return {
          sequence: s - d,
          problem: 'inserted',
          detail: `entry at ${s} was written as ${s - d}: ${plural(d, 'entry was', 'entries were')} inserted before it`,
        };
      }
      return { sequence: s, problem: 'inserted', detail: `entry at ${s} is a copy of entry ${s - d}` };
    }
    if (fitsAt(e, s + d)) {
      if (ctx.ahead.some((a) => a.eventHash === e.prevHash)) {
        return { sequence: s, problem: 'reordered', detail: `entry at ${s} was written as ${s + d}; its predecessor appears after it` };
      }
      return {
        sequence: s,
        problem: 'deleted',
        detail: `entry at ${s} was written as ${s + d}: ${plural(d, 'entry was', 'entries were')} deleted before it`,
      };
    }
  }

  // An extra entry with a made-up hash, followed by the real one (renumbered)?
  const next = ctx.ahead[0];
  if (next && next.sequence === s + 1 && next.prevHash === ctx.prevHash && fitsAt(next, s)) {
    return { sequence: s, problem: 'inserted', detail: `entry ${s} is not part of the chain; the next entry belongs at ${s}` };
  }
  return { sequence: s, problem: 'modified', detail: `entry ${s} does not match its event hash` };
}
