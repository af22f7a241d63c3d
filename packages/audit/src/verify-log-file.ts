/**
 * Offline verification of a SQLite audit file (what `baton audit verify <file>` runs):
 * the hash chain and sequence of every entry, and the Merkle root against every stored
 * checkpoint whose signature verifies, plus an optional checkpoint obtained elsewhere
 * (the strongest check: it cannot have been rewritten together with the file).
 */
import { availableParallelism } from 'node:os';
import { BatonError } from '@baton/core';
import { verifyCheckpoint, type Checkpoint } from './checkpoint.js';
import { verifyInParallel } from './parallel-verify.js';
import type { NoteVerifier } from './signed-note.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import { verifyEntries, type VerifyReport } from './verify-entries.js';

/** Options of {@link verifyLogFile}. */
export interface VerifyLogFileOptions {
  /** Keys of the log. Without them, stored checkpoints are compared but not authenticated. */
  readonly verifiers?: readonly NoteVerifier[];
  /** Expected checkpoint origin. */
  readonly origin?: string;
  /** Trusted checkpoints from outside the file (signed notes); need `verifiers`. */
  readonly checkpoints?: readonly string[];
  /** Progress callback (every 10 000 entries and at the end). */
  readonly onProgress?: (checked: number, sequence: number) => void;
  /** Worker threads for large files. Default: the available parallelism; 1 = one pass on this thread. */
  readonly threads?: number;
  /** Fewest entries per worker thread (smaller files are verified in one pass). Default 50 000. */
  readonly minEntriesPerThread?: number;
}

/** Result of {@link verifyLogFile}. */
export interface VerifyLogFileReport extends VerifyReport {
  /** Stored checkpoints used. */
  readonly checkpointsUsed: number;
  /** True when every checkpoint used was signature-checked. */
  readonly checkpointsAuthenticated: boolean;
  /** Threads that verified the chain (1: a single pass on the calling thread). */
  readonly threadsUsed: number;
  /** Stored checkpoints rejected (bad signature, unknown key, malformed), by size. */
  readonly rejectedCheckpoints: ReadonlyArray<{ readonly size: number; readonly code: string }>;
}

/**
 * Verifies a SQLite audit log file, read-only.
 *
 * @example
 * const r = await verifyLogFile('audit.db', { verifiers: [parseVerifierKey(logKey)], onProgress: (n) => bar.update(n) });
 * if (!r.ok) console.error(`entry ${r.firstBad!.sequence}: ${r.firstBad!.problem} (${r.firstBad!.detail})`);
 */
export async function verifyLogFile(path: string, opts: VerifyLogFileOptions = {}): Promise<VerifyLogFileReport> {
  const store = await createSqliteAuditStore({ path, readonly: true });
  try {
    const verifiers = opts.verifiers ?? [];
    const origin = opts.origin !== undefined ? { origin: opts.origin } : undefined;
    const trusted: Checkpoint[] = [];
    const rejected: Array<{ size: number; code: string }> = [];
    for (const c of await store.checkpoints()) {
      if (verifiers.length === 0) {
        trusted.push(c);
        continue;
      }
      try {
        const v = verifyCheckpoint(c.note, verifiers, origin);
        // The row's own size/root columns must agree with what was signed.
        if (v.size !== c.size || !v.rootHash.equals(c.rootHash)) throw new BatonError('ERR_CHECKPOINT_INVALID', 'row differs from its note');
        trusted.push(v);
      } catch (err) {
        rejected.push({ size: c.size, code: (err as { code?: string }).code ?? 'ERR_CHECKPOINT_INVALID' });
      }
    }
    const stored = trusted.length;
    for (const note of opts.checkpoints ?? []) trusted.push(verifyCheckpoint(note, verifiers, origin));
    const threads = opts.threads ?? availableParallelism();
    const parallel = await verifyInParallel(path, await store.size(), threads, trusted, opts.onProgress, opts.minEntriesPerThread);
    const report =
      parallel?.report ??
      (await verifyEntries(store.iterateSync(1), { checkpoints: trusted, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) }));
    return {
      ...report,
      ok: report.ok && rejected.length === 0,
      checkpointsUsed: stored,
      threadsUsed: parallel?.threads ?? 1,
      checkpointsAuthenticated: verifiers.length > 0,
      rejectedCheckpoints: rejected,
    };
  } finally {
    await store.close();
  }
}
