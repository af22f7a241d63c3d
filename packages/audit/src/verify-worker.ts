/**
 * Worker of {@link verifyInParallel}: verifies the hash chain of entries [from, to] of a
 * SQLite audit file and streams the Merkle leaf hashes of the verified entries (32 bytes
 * each) back to the main thread, which builds the tree in order: hashing the leaves here
 * keeps that work off the main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ZERO_HASH } from './entry-hash.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import type { VerifyFailure } from './verify-entries.js';
import { verifyRange } from './verify-range.js';

/** Messages a worker posts. */
export type VerifyWorkerMessage =
  /** Leaf hashes `SHA-256(0x00 || event hash)` of consecutive verified entries. */
  | { readonly kind: 'hashes'; readonly hashes: Uint8Array }
  | { readonly kind: 'progress'; readonly checked: number }
  | { readonly kind: 'done'; readonly entries: number; readonly lastSequence: number; readonly firstBad?: VerifyFailure };

/** What a worker is given. */
export interface VerifyWorkerData {
  readonly path: string;
  readonly from: number;
  readonly to: number;
}

const CHUNK = 16_384;

async function run(data: VerifyWorkerData, post: (m: VerifyWorkerMessage, transfer?: ArrayBuffer[]) => void): Promise<void> {
  const store = await createSqliteAuditStore({ path: data.path, readonly: true });
  try {
    // The entry before the range is verified by the previous worker; its stored hash is
    // what this range must link to.
    const prevHash = data.from === 1 ? ZERO_HASH : ((await store.get(data.from - 1))?.eventHash ?? '');
    let buf = new Uint8Array(CHUNK * 32);
    let n = 0;
    const flush = (): void => {
      if (n === 0) return;
      const out = buf.slice(0, n * 32);
      post({ kind: 'hashes', hashes: out }, [out.buffer]);
      buf = new Uint8Array(CHUNK * 32);
      n = 0;
    };
    const report = await verifyRange(store, {
      from: data.from,
      to: data.to,
      prevHash,
      progressEvery: 50_000,
      onProgress: (checked) => post({ kind: 'progress', checked }),
      onLeaf: (leaf) => {
        buf.set(leaf, n * 32);
        if (++n === CHUNK) flush();
      },
    });
    flush();
    post({ kind: 'done', entries: report.entries, lastSequence: report.lastSequence, ...(report.firstBad ? { firstBad: report.firstBad } : {}) });
  } finally {
    await store.close();
  }
}

if (parentPort) {
  const port = parentPort;
  // A failure rejects here and surfaces as the worker's 'error' event in the parent.
  void run(workerData as VerifyWorkerData, (m, transfer) => port.postMessage(m, transfer ?? []));
}
