/**
 * The storage contract of the audit log, implemented by the SQLite and PostgreSQL
 * stores. Storage is append-only: no method updates or deletes, and database triggers
 * refuse UPDATE and DELETE.
 */
import type { SignedCheckpoint } from './checkpoint.js';
import type { AuditEntry, AuditEventFields } from './event.js';
import type { AuditEventType, AuditOutcome } from './event-types.js';
import type { TreeStorage } from './tree-reader.js';

/** What happened to one appended event. */
export interface AppendOutcome {
  readonly status: 'accepted' | 'duplicate';
  /** The entry's sequence (for a duplicate: the original's). */
  readonly sequence: number;
}

/** Filters for {@link AuditStore.query}; all given filters must match. */
export interface EntryFilter {
  readonly agent?: string;
  readonly task?: string;
  readonly orchestration?: string;
  readonly workflow?: string;
  readonly type?: AuditEventType;
  readonly outcome?: AuditOutcome;
  /** Stored (keyed-hash) principal. */
  readonly principal?: string;
  readonly traceId?: string;
  /** Source time, unix ms: since inclusive, until exclusive. */
  readonly since?: number;
  readonly until?: number;
  /** Only entries with a sequence greater than this. */
  readonly afterSequence?: number;
}

/** A checkpoint as stored. */
export interface StoredCheckpoint extends SignedCheckpoint {
  /** Unix ms when it was signed. */
  readonly createdAt: number;
}

/** Persistent, append-only storage for entries, subtree hashes and checkpoints. */
export interface AuditStore extends TreeStorage {
  readonly kind: 'sqlite' | 'postgres';
  /** Applies pending schema migrations. Idempotent; safe to call from several processes. */
  init(): Promise<void>;
  /**
   * Appends events in one transaction, serialized with every other appender (other
   * processes too), so sequences are gap-free and each `prev_hash` is the previous
   * entry's hash. An event whose id is already stored (or repeats in the batch) is a
   * duplicate and keeps its original sequence.
   */
  append(events: readonly AuditEventFields[], loggedAt: number): Promise<AppendOutcome[]>;
  /** Number of entries (= the last sequence). */
  size(): Promise<number>;
  /** Entries with sequence in [from, to] (to defaults to the end), in sequence order. */
  entries(from?: number, to?: number): AsyncIterable<AuditEntry>;
  /** One entry by sequence. */
  get(sequence: number): Promise<AuditEntry | undefined>;
  /** Up to `limit` matching entries in sequence order. */
  query(filter: EntryFilter, limit: number): Promise<AuditEntry[]>;
  /** Stores a signed checkpoint (a second one at the same size is ignored). */
  addCheckpoint(cp: SignedCheckpoint, createdAt: number): Promise<void>;
  /** The checkpoint with the largest size. */
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /** Every stored checkpoint, by size. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  close(): Promise<void>;
}
