/**
 * Verification of a large SQLite audit file on several cores: worker threads take
 * contiguous ranges in turn, check their hash chain and build the Merkle tree of each
 * range (reading and hashing entries is the whole cost); the main thread joins the
 * ranges' subtrees in order and compares roots with the trusted checkpoints, so it leaves
 * the cores to the workers. The first bad entry is the one in the earliest range, so the
 * answer is the same as a sequential pass.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Checkpoint } from './checkpoint.js';
import { CompactRange } from './compact-range.js';
import type { VerifyFailure, VerifyReport } from './verify-entries.js';
import type { VerifyTask, VerifyWorkerData, VerifyWorkerMessage } from './verify-worker.js';

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

// Entries per task: ranges are handed to whichever worker is free, so a worker slowed by
// other load on the machine does not leave the others idle at the end.
const TASK_MAX = 32_768;
const TASKS_PER_THREAD = 4;

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

  const per = Math.min(TASK_MAX, Math.ceil(size / (count * TASKS_PER_THREAD)));
  const cps = checkpoints.filter((c) => c.size > 0).sort((a, b) => a.size - b.size);
  const tasks: VerifyTask[] = [];
  for (let from = 1; from <= size; from += per) {
    const to = Math.min(size, from + per - 1);
    tasks.push({ task: tasks.length, from, to, checkpointSizes: [...new Set(cps.map((c) => c.size).filter((s) => s >= from && s <= to))] });
  }
  const inboxes = tasks.map(() => new Inbox());
  const checked: number[] = [];
  let nextTask = 0;
  const assign = (w: Worker): void => w.postMessage(nextTask < tasks.length ? tasks[nextTask++]! : null);
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const data: VerifyWorkerData = { path };
    const w = new Worker(script, { workerData: data });
    w.on('message', (m: VerifyWorkerMessage) => {
      if (m.kind === 'progress') {
        checked[m.task] = m.checked;
        onProgress?.(checked.reduce((a, b) => a + (b ?? 0), 0), 0);
        return;
      }
      inboxes[m.task]!.push(m);
      if (m.kind === 'done') {
        checked[m.task] = m.entries;
        assign(w);
      }
    });
    const fail = (err: unknown): void => inboxes.forEach((inbox) => inbox.fail(err));
    w.on('error', fail);
    w.on('exit', (code) => (code !== 0 ? fail(new Error(`verify worker exited with ${code}`)) : undefined));
    workers.push(w);
    assign(w);
  }

  // The tree of the verified prefix of the log: each worker's range is joined once it is done.
  let tree = new CompactRange(0);
  let cpIndex = 0;
  let matched = 0;
  let entries = 0;
  let firstBad: VerifyFailure | undefined;
  try {
    outer: for (const inbox of inboxes) {
      for (;;) {
        const m = await inbox.next();
        if (m.kind === 'roots') {
          for (const { size: at, nodes } of m.at) {
            const t = tree.clone();
            t.appendRange(nodes);
            const root = t.root();
            while (cpIndex < cps.length && cps[cpIndex]!.size === at) {
              if (!root.equals(cps[cpIndex]!.rootHash)) {
                // Like a sequential pass: stop at the entry that completes the checkpoint.
                firstBad = { sequence: matched + 1, problem: 'root_mismatch', detail: `entries ${matched + 1}..${at} do not match the signed checkpoint at size ${at}` };
                entries = at;
                tree = t;
                break outer;
              }
              matched = cps[cpIndex++]!.size;
            }
          }
        } else if (m.kind === 'done') {
          entries += m.entries;
          tree.appendRange(m.range);
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
    const s = tree.end + 1;
    firstBad = { sequence: s, problem: 'truncated', detail: `log ends at ${s - 1} but a signed checkpoint covers ${cps[cps.length - 1]!.size} entries` };
  }
  onProgress?.(entries, tree.end);
  const report: VerifyReport = {
    ok: firstBad === undefined,
    entries,
    lastSequence: tree.end,
    rootHash: tree.root(),
    checkpointSize: matched,
    ...(firstBad ? { firstBad } : {}),
  };
  return { report, threads: count };
}
