/**
 * The read side of the log: paged queries, tails that follow new entries, inclusion and
 * consistency proofs, and verification of the stored log.
 */
import { BatonError } from '@baton/core';
import { verifyCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { leafHashOf } from './entry-hash.js';
import type { AuditEntry } from './event.js';
import { consistencyProofPlan, inclusionProofPlan } from './merkle-proof.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import type { Sanitizer } from './sanitizer.js';
import type { NoteVerifier } from './signed-note.js';
import type { AuditStore, EntryFilter } from './store.js';
import { TreeReader } from './tree-reader.js';
import { verifyEntries, type VerifyReport } from './verify-entries.js';

/** Query filters; all given must match. As the store's, but with the raw principal and an inclusive start. */
export interface LogFilter extends Omit<EntryFilter, 'principal' | 'afterSequence'> {
  /** Raw principal; matched through its keyed hash. */
  readonly principal?: string;
  /** Start at this sequence (inclusive). */
  readonly fromSequence?: number;
}

/** An inclusion proof with what a verifier needs. */
export interface InclusionProof {
  readonly entry: AuditEntry;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Buffer;
  readonly hashes: Buffer[];
  /** Signed checkpoint at `treeSize` ('' when none was signed at that size). */
  readonly checkpoint: string;
}

/** Read operations of the log. */
export interface LogReads {
  size(): Promise<number>;
  /** One page of matching entries; pass `nextPageToken` back for the next ('' at the end). */
  query(filter: LogFilter, page?: { pageSize?: number; pageToken?: string }): Promise<{ entries: AuditEntry[]; nextPageToken: string }>;
  /** Matching entries from `filter.fromSequence` (default: only new ones), following the log until aborted. */
  tail(filter: LogFilter, opts?: { signal?: AbortSignal; pollMs?: number }): AsyncIterable<AuditEntry>;
  /** Proof that entry `sequence` is in the tree of `treeSize` (0: the latest checkpoint). */
  inclusionProof(sequence: number, treeSize?: number): Promise<InclusionProof>;
  /** Proof that the tree of `first` entries is a prefix of the tree of `second`. */
  consistencyProof(first: number, second: number): Promise<Buffer[]>;
  /** Verifies entries [from, to] (default: all) against the chain and every trusted stored checkpoint. */
  verify(opts?: { from?: number; to?: number; onProgress?: (checked: number, sequence: number) => void }): Promise<VerifyReport>;
}

/** Page size bounds. */
export const QUERY_LIMITS = Object.freeze({ defaultPageSize: 100, maxPageSize: 1000, tailPollMs: 1000 });

const seqArg = (name: string, v: number, min: number): number => {
  if (!Number.isSafeInteger(v) || v < min) throw new BatonError('ERR_INVALID_ARGUMENT', `${name} must be an integer >= ${min}`);
  return v;
};

export function createLogReads(o: {
  store: AuditStore;
  verifiers: readonly NoteVerifier[];
  origin: string;
  sanitizer: Sanitizer;
  latestCheckpoint(): Promise<SignedCheckpoint>;
  checkpoint(): Promise<SignedCheckpoint>;
  listeners: Set<() => void>;
}): LogReads {
  const { store } = o;
  const reader = new TreeReader(store);
  const toEntryFilter = (f: LogFilter, after: number): EntryFilter => ({
    ...(f.agent ? { agent: f.agent } : {}),
    ...(f.task ? { task: f.task } : {}),
    ...(f.orchestration ? { orchestration: f.orchestration } : {}),
    ...(f.workflow ? { workflow: f.workflow } : {}),
    ...(f.type ? { type: f.type } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.principal ? { principal: o.sanitizer.principalHash(f.principal) } : {}),
    ...(f.traceId ? { traceId: f.traceId } : {}),
    ...(f.since ? { since: f.since } : {}),
    ...(f.until ? { until: f.until } : {}),
    afterSequence: after,
  });

  return {
    size: () => store.size(),

    async query(filter, page) {
      const pageSize = page?.pageSize ?? QUERY_LIMITS.defaultPageSize;
      if (!Number.isSafeInteger(pageSize) || pageSize < 1 || pageSize > QUERY_LIMITS.maxPageSize) {
        throw new BatonError('ERR_INVALID_ARGUMENT', `page size must be 1..${QUERY_LIMITS.maxPageSize}`);
      }
      const base = toEntryFilter(filter, Math.max(0, (filter.fromSequence ?? 1) - 1));
      const after = page?.pageToken ? decodePageToken(page.pageToken, base) : base.afterSequence!;
      const rows = await store.query({ ...base, afterSequence: after }, pageSize + 1);
      const entries = rows.slice(0, pageSize);
      const nextPageToken = rows.length > pageSize ? encodePageToken(base, entries[entries.length - 1]!.sequence) : '';
      return { entries, nextPageToken };
    },

    async *tail(filter, opts) {
      const signal = opts?.signal;
      const pollMs = opts?.pollMs ?? QUERY_LIMITS.tailPollMs;
      let after = filter.fromSequence ? filter.fromSequence - 1 : await store.size();
      while (!signal?.aborted) {
        const rows = await store.query(toEntryFilter(filter, after), 500);
        for (const e of rows) {
          if (signal?.aborted) return;
          yield e;
          after = e.sequence;
        }
        if (rows.length === 500) continue;
        // Wake on a local append, a poll tick (other replicas), or abort.
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(t);
            o.listeners.delete(done);
            signal?.removeEventListener('abort', done);
            resolve();
          };
          const t = setTimeout(done, pollMs);
          o.listeners.add(done);
          signal?.addEventListener('abort', done, { once: true });
        });
      }
    },

    async inclusionProof(sequence, treeSize = 0) {
      seqArg('sequence', sequence, 1);
      seqArg('treeSize', treeSize, 0);
      let checkpoint = '';
      if (treeSize === 0) {
        let cp = await o.latestCheckpoint();
        if (cp.size < sequence) cp = await o.checkpoint();
        treeSize = cp.size;
        checkpoint = cp.note;
      } else {
        const size = await store.size();
        if (treeSize > size) throw new BatonError('ERR_INVALID_ARGUMENT', `tree size ${treeSize} exceeds the log size ${size}`);
        checkpoint = (await store.checkpoints()).find((c) => c.size === treeSize)?.note ?? '';
      }
      if (sequence > treeSize) throw new BatonError('ERR_NOT_FOUND', `entry ${sequence} is not in a tree of size ${treeSize}`);
      const entry = await store.get(sequence);
      if (!entry) throw new BatonError('ERR_NOT_FOUND', `entry ${sequence} not found`);
      const hashes = await reader.proof(inclusionProofPlan(sequence - 1, treeSize));
      return { entry, leafIndex: sequence - 1, treeSize, leafHash: leafHashOf(entry.eventHash), hashes, checkpoint };
    },

    async consistencyProof(first, second) {
      seqArg('first', first, 0);
      seqArg('second', second, 0);
      const size = await store.size();
      if (second > size) throw new BatonError('ERR_INVALID_ARGUMENT', `tree size ${second} exceeds the log size ${size}`);
      return reader.proof(consistencyProofPlan(first, second));
    },

    async verify(opts) {
      const from = seqArg('from', opts?.from ?? 1, 1);
      const size = await store.size();
      const to = Math.min(opts?.to ? seqArg('to', opts.to, from) : size, size);
      const trusted: SignedCheckpoint[] = [];
      for (const c of await store.checkpoints()) {
        if (c.size > to) continue;
        trusted.push(verifyCheckpoint(c.note, o.verifiers, { origin: o.origin }));
      }
      const start =
        from === 1
          ? undefined
          : { sequence: from, prevHash: (await store.get(from - 1))?.eventHash ?? '', frontier: await reader.frontier(from - 1) };
      return verifyEntries(store.entries(from, to), {
        checkpoints: trusted,
        ...(start ? { start } : {}),
        ...(opts?.onProgress ? { onProgress: opts.onProgress } : {}),
      });
    },
  };
}
