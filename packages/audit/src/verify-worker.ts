/**
 * Worker of {@link verifyInParallel}: verifies the hash chain of the ranges of a SQLite
 * audit file it is given, one after another, and builds the Merkle tree of each range's
 * verified entries as a compact range (leaves from-1 ..), so the main thread only joins
 * a few dozen subtree hashes per range instead of hashing a million leaves while the
 * workers need the cores. For every checkpoint size inside a range it sends the range's
 * nodes up to that size, from which the main thread gets the root at that size.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CompactRange, type CompactNodes } from './compact-range.js';
import { ZERO_HASH } from './entry-hash.js';
import { RowTextReader } from './row-text-reader.js';
import { createSqliteAuditStore, type SqliteAuditStore } from './sqlite-store.js';
import type { VerifyFailure } from './verify-entries.js';
import { verifyRange } from './verify-range.js';

/** The nodes of a range at a checkpoint size inside it. */
export interface RangeAtSize {
  readonly size: number;
  readonly nodes: CompactNodes;
}

/** Messages a worker posts; `task` is the index of the range they are about. */
export type VerifyWorkerMessage =
  /** Ranges at checkpoint sizes, in increasing size (sent with progress, and before `done`). */
  | { readonly kind: 'roots'; readonly task: number; readonly at: readonly RangeAtSize[] }
  | { readonly kind: 'progress'; readonly task: number; readonly checked: number }
  /** `range`: the nodes of the verified entries from..lastSequence. */
  | {
      readonly kind: 'done';
      readonly task: number;
      readonly entries: number;
      readonly lastSequence: number;
      readonly range: CompactNodes;
      readonly firstBad?: VerifyFailure;
    };

/** What a worker is given when it starts. */
export interface VerifyWorkerData {
  readonly path: string;
}

/** A range to verify, posted to a worker (`null`: no more work). */
export interface VerifyTask {
  readonly task: number;
  readonly from: number;
  readonly to: number;
  /** Distinct checkpoint sizes in [from, to], increasing. */
  readonly checkpointSizes: readonly number[];
}

async function verifyTask(store: SqliteAuditStore, reader: RowTextReader, t: VerifyTask, post: (m: VerifyWorkerMessage) => void): Promise<void> {
  const { task } = t;
  // The entry before the range is verified with the previous range; its stored hash is
  // what this range must link to.
  const prevHash = t.from === 1 ? ZERO_HASH : ((await store.get(t.from - 1))?.eventHash ?? '');
  const range = new CompactRange(t.from - 1);
  const sizes = t.checkpointSizes;
  let next = 0;
  let at: RangeAtSize[] = [];
  const flush = (): void => {
    if (at.length === 0) return;
    post({ kind: 'roots', task, at });
    at = [];
  };
  const report = await verifyRange(store, reader, {
    from: t.from,
    to: t.to,
    prevHash,
    progressEvery: 50_000,
    onProgress: (checked) => {
      flush();
      post({ kind: 'progress', task, checked });
    },
    onVerified: (eventHash) => {
      range.appendEventHash(eventHash);
      while (next < sizes.length && sizes[next] === range.end) at.push({ size: sizes[next++]!, nodes: range.nodes() });
    },
  });
  flush();
  post({
    kind: 'done',
    task,
    entries: report.entries,
    lastSequence: report.lastSequence,
    range: range.nodes(),
    ...(report.firstBad ? { firstBad: report.firstBad } : {}),
  });
}

if (parentPort) {
  const port = parentPort;
  const { path } = workerData as VerifyWorkerData;
  const post = (m: VerifyWorkerMessage): void => port.postMessage(m);
  const opened = (async () => ({ store: await createSqliteAuditStore({ path, readonly: true }), reader: new RowTextReader(path) }))();
  // Tasks run one at a time, in the order they come. A failure rejects the chain, which
  // surfaces as the worker's 'error' event in the parent.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (t: VerifyTask | null) => {
    queue = queue.then(async () => {
      const { store, reader } = await opened;
      if (t) return verifyTask(store, reader, t, post);
      reader.close();
      await store.close();
      port.close();
    });
    queue.catch((err: unknown) => {
      throw err;
    });
  });
}
