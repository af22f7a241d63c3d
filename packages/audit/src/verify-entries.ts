/**
 * Whole-log verification as a pure function over the entries in storage order: the hash
 * chain, the sequence, and the Merkle root against trusted checkpoints. On tampering it
 * names the first bad entry and what is wrong with it.
 */
import type { Checkpoint } from './checkpoint.js';
import { ZERO_HASH, computeEventHash, leafHashOf } from './entry-hash.js';
import type { AuditEntry } from './event.js';
import { MerkleFrontier } from './merkle-frontier.js';
import { classifyBreak } from './classify-break.js';

/** What is wrong with the first bad entry. */
export type VerifyProblem = 'modified' | 'deleted' | 'reordered' | 'inserted' | 'truncated' | 'root_mismatch';

/** The first bad entry found. */
export interface VerifyFailure {
  readonly sequence: number;
  readonly problem: VerifyProblem;
  /** Human-readable specifics, e.g. "entries 7..9 are missing". */
  readonly detail: string;
}

/** Result of {@link verifyEntries}. */
export interface VerifyReport {
  readonly ok: boolean;
  /** Entries checked before stopping. */
  readonly entries: number;
  /** Sequence of the last good entry (0 when none). */
  readonly lastSequence: number;
  /** Merkle root over the good entries (undefined when verification did not start at 1 without a frontier). */
  readonly rootHash?: Buffer;
  /** Largest trusted checkpoint size matched. */
  readonly checkpointSize: number;
  readonly firstBad?: VerifyFailure;
}

/** Options of {@link verifyEntries}. */
export interface VerifyEntriesOptions {
  /** Trusted (signature-checked) checkpoints; each root is compared at its size. */
  readonly checkpoints?: readonly Checkpoint[];
  /** Resume in the middle of a log: first expected sequence, its prev hash, and optionally the frontier before it. */
  readonly start?: { readonly sequence: number; readonly prevHash: string; readonly frontier?: MerkleFrontier };
  /** Called every `progressEvery` entries (default 10 000) and at the end. */
  readonly onProgress?: (checked: number, sequence: number) => void;
  readonly progressEvery?: number;
  /** How far ahead to look when classifying a break (default 32). */
  readonly window?: number;
  /** Stop after this sequence (the entries after it are still used as look-ahead). */
  readonly last?: number;
  /** Sees every entry that verified, in order, with its Merkle leaf hash (only valid during the call). */
  readonly onVerified?: (entry: AuditEntry, leafHash: Buffer) => void;
  /** Build the Merkle tree when starting at sequence 1 (default true); a worker checking one range of a log does not need it. */
  readonly tree?: boolean;
}

/**
 * Pull-based reader with a look-ahead buffer, over sync or async iterables. A sync source
 * is read without a promise per entry (most of a large verification's garbage).
 */
class Lookahead {
  readonly #it: Iterator<AuditEntry> | AsyncIterator<AuditEntry>;
  readonly #sync: Iterator<AuditEntry> | undefined;
  #buf: AuditEntry[] = [];
  #done = false;
  constructor(src: Iterable<AuditEntry> | AsyncIterable<AuditEntry>) {
    this.#it = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]();
    this.#sync = Symbol.asyncIterator in src ? undefined : (this.#it as Iterator<AuditEntry>);
  }
  /** The next entry of a sync source without awaiting; `null` when the source is async. */
  nextSync(): AuditEntry | undefined | null {
    if (this.#sync === undefined) return null;
    if (this.#buf.length > 0) return this.#buf.shift();
    if (this.#done) return undefined;
    const r = this.#sync.next();
    if (r.done) {
      this.#done = true;
      return undefined;
    }
    return r.value;
  }
  async #pull(): Promise<AuditEntry | undefined> {
    if (this.#done) return undefined;
    const r = await this.#it.next();
    if (r.done) {
      this.#done = true;
      return undefined;
    }
    return r.value;
  }
  async next(): Promise<AuditEntry | undefined> {
    return this.#buf.length > 0 ? this.#buf.shift() : this.#pull();
  }
  async peek(n: number): Promise<readonly AuditEntry[]> {
    while (this.#buf.length < n) {
      const e = await this.#pull();
      if (!e) break;
      this.#buf.push(e);
    }
    return this.#buf.slice(0, n);
  }
  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

/**
 * Verifies entries in storage order. Stops at the first bad entry.
 *
 * @example
 * const report = await verifyEntries(store.entries(), { checkpoints: [trusted] });
 * if (!report.ok) console.log(report.firstBad); // { sequence: 7, problem: 'deleted', … }
 */
export async function verifyEntries(
  entries: Iterable<AuditEntry> | AsyncIterable<AuditEntry>,
  opts: VerifyEntriesOptions = {},
): Promise<VerifyReport> {
  const window = opts.window ?? 32;
  const every = opts.progressEvery ?? 10_000;
  const start = opts.start ?? { sequence: 1, prevHash: ZERO_HASH, frontier: new MerkleFrontier() };
  const frontier = start.frontier ?? (start.sequence === 1 && opts.tree !== false ? new MerkleFrontier() : undefined);
  if (frontier && frontier.size !== start.sequence - 1) throw new TypeError('start.frontier must cover the entries before start.sequence');
  const checkpoints = [...(opts.checkpoints ?? [])].sort((a, b) => a.size - b.size).filter((c) => c.size >= start.sequence);
  let cpIndex = 0;
  let matchedSize = 0;
  let prevHash = start.prevHash;
  // Hashes of the good entries before the last one, newest first (for classifying breaks).
  const recent: string[] = [];
  let expected = start.sequence;
  let checked = 0;
  const src = new Lookahead(entries);
  const report = (firstBad?: VerifyFailure): VerifyReport => {
    opts.onProgress?.(checked, expected - 1);
    return {
      ok: firstBad === undefined,
      entries: checked,
      lastSequence: expected - 1,
      ...(frontier ? { rootHash: frontier.root() } : {}),
      checkpointSize: matchedSize,
      ...(firstBad ? { firstBad } : {}),
    };
  };
  // Roots are compared whenever the good prefix reaches a checkpoint's size.
  const checkRoots = (): VerifyFailure | undefined => {
    while (frontier && cpIndex < checkpoints.length && checkpoints[cpIndex]!.size === frontier.size) {
      const cp = checkpoints[cpIndex]!;
      if (!frontier.root().equals(cp.rootHash)) {
        const from = matchedSize + 1;
        return { sequence: from, problem: 'root_mismatch', detail: `entries ${from}..${cp.size} do not match the signed checkpoint at size ${cp.size}` };
      }
      matchedSize = cp.size;
      cpIndex++;
    }
    return undefined;
  };

  try {
    const early = checkRoots();
    if (early) return report(early);
    const last = opts.last ?? Number.MAX_SAFE_INTEGER;
    while (expected <= last) {
      const sync = src.nextSync();
      const e = sync === null ? await src.next() : sync;
      if (!e) break;
      checked++;
      const intact = e.sequence === expected && isHex64(e.eventHash) && computeEventHash(e) === e.eventHash;
      if (!intact || e.prevHash !== prevHash) {
        const ahead = await src.peek(window);
        return report(classifyBreak({ entry: e, expected, prevHash, recent, intact, ahead, window }));
      }
      recent.unshift(prevHash);
      if (recent.length > window) recent.pop();
      prevHash = e.eventHash;
      if (frontier || opts.onVerified) {
        const leaf = leafHashOf(e.eventHash);
        frontier?.append(leaf);
        opts.onVerified?.(e, leaf);
      }
      expected++;
      const bad = checkRoots();
      if (bad) return report(bad);
      if (checked % every === 0) opts.onProgress?.(checked, e.sequence);
    }
    if (cpIndex < checkpoints.length) {
      const cp = checkpoints[checkpoints.length - 1]!;
      return report({ sequence: expected, problem: 'truncated', detail: `log ends at ${expected - 1} but a signed checkpoint covers ${cp.size} entries` });
    }
    return report();
  } finally {
    await src.close();
  }
}

function isHex64(s: unknown): boolean {
  return typeof s === 'string' && /^[0-9a-f]{64}$/.test(s);
}
