/**
 * Verification of a large SQLite audit file on several cores: worker threads check the
 * hash chain of contiguous ranges (reading and hashing entries is most of the cost) and
 * stream the leaf hashes of the verified entries back; the main thread builds the Merkle
 * tree over them in order and compares roots with the trusted checkpoints. The first bad
 * entry is the one in the earliest range, so the answer is the same as a sequential pass.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Checkpoint } from './checkpoint.js';
import { MerkleFrontier } from './merkle-frontier.js';
import type { VerifyFailure, VerifyReport } from './verify-entries.js';
import type { VerifyWorkerData, VerifyWorkerMessage } from './verify-worker.js';


/** A message queue per worker, consumed in range order. */
class Inbox {
  #items: VerifyWorkerMessage[] = [];
  #wake: (() => void) | undefined;
  #error: unknown;
  push(m: VerifyWorkerMessage): void {
    this.#items.push(m);
    this.#wake?.();
  }
  fail(err: unknown): void {
    this.#error = err ?? new Error('verify worker failed');
    this.#wake?.();
  }
  async next(): Promise<VerifyWorkerMessage> {
    while (this.#items.length === 0) {
      if (this.#error !== undefined) throw this.#error;
      await new Promise<void>((r) => (this.#wake = r));
      this.#wake = undefined;
    }
    return this.#items.shift()!;
  }
}

/**
 * Verifies entries 1..size of the file at `path` with up to `threads` workers. Returns
 * undefined when parallel verification is not available (the worker script is missing,
 * e.g. when running from sources) or not worth it, so the caller verifies sequentially.
 */
export async function verifyInParallel(
  path: string,
  size: number,
  threads: number,
  checkpoints: readonly Checkpoint[],
  onProgress?: (checked: number, sequence: number) => void,
  minPerThread = 50_000,
): Promise<{ report: VerifyReport; threads: number } | undefined> {
  const script = new URL('./verify-worker.js', import.meta.url);
  const count = Math.min(threads, Math.floor(size / minPerThread));
  if (count < 2 || !existsSync(fileURLToPath(script))) return undefined;

  const per = Math.ceil(size / count);
  const inboxes: Inbox[] = [];
  const workers: Worker[] = [];
  const checked: number[] = [];
  for (let i = 0; i < count; i++) {
    const data: VerifyWorkerData = { path, from: i * per + 1, to: Math.min(size, (i + 1) * per) };
    const inbox = new Inbox();
    const w = new Worker(script, { workerData: data });
    w.on('message', (m: VerifyWorkerMessage) => {
      if (m.kind === 'progress') {
        checked[i] = m.checked;
        onProgress?.(checked.reduce((a, b) => a + (b ?? 0), 0), 0);
      } else inbox.push(m);
    });
    w.on('error', (err) => inbox.fail(err));
    w.on('exit', (code) => (code !== 0 ? inbox.fail(new Error(`verify worker exited with ${code}`)) : undefined));
    inboxes.push(inbox);
    workers.push(w);
  }

  const cps = checkpoints.filter((c) => c.size > 0).sort((a, b) => a.size - b.size);
  const frontier = new MerkleFrontier();
  let cpIndex = 0;
  let matched = 0;
  let entries = 0;
  let firstBad: VerifyFailure | undefined;
  try {
    outer: for (const inbox of inboxes) {
      for (;;) {
        const m = await inbox.next();
        if (m.kind === 'hashes') {
          for (let off = 0; off < m.hashes.length; off += 32) {
            frontier.append(m.hashes.subarray(off, off + 32));
            while (cpIndex < cps.length && cps[cpIndex]!.size === frontier.size) {
              if (!frontier.root().equals(cps[cpIndex]!.rootHash)) {
                const size = cps[cpIndex]!.size;
                firstBad = { sequence: matched + 1, problem: 'root_mismatch', detail: `entries ${matched + 1}..${size} do not match the signed checkpoint at size ${size}` };
                break outer;
              }
              matched = cps[cpIndex++]!.size;
            }
          }
        } else if (m.kind === 'done') {
          entries += m.entries;
          if (m.firstBad) {
            firstBad = m.firstBad;
            break outer;
          }
          break;
        }
      }
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  if (!firstBad && cpIndex < cps.length) {
    const s = frontier.size + 1;
    firstBad = { sequence: s, problem: 'truncated', detail: `log ends at ${s - 1} but a signed checkpoint covers ${cps[cps.length - 1]!.size} entries` };
  }
  onProgress?.(entries, frontier.size);
  const report: VerifyReport = {
    ok: firstBad === undefined,
    entries,
    lastSequence: frontier.size,
    rootHash: frontier.root(),
    checkpointSize: matched,
    ...(firstBad ? { firstBad } : {}),
  };
  return { report, threads: count };
}
