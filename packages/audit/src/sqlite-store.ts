/**
 * The default audit store: one SQLite file (better-sqlite3, WAL).
 *
 * Durability: `synchronous = FULL` by default. In WAL mode NORMAL survives a process
 * crash but may lose the last commits on power loss or an OS crash; FULL syncs the WAL
 * on every commit, so an append that returned is on disk. "Never lose an acknowledged
 * event" needs FULL; the cost is one fsync per transaction, amortised by batching
 * (the log group-commits concurrent appends).
 */
import fs from 'node:fs';
import Database from 'better-sqlite3';
import { StaleHeadError, emptyHead, planAppend, type ChainHead } from './append-plan.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { leafHashOf } from './entry-hash.js';
import type { AuditEntry, AuditEventFields } from './event.js';
import { ENTRY_COLUMNS, entryToValues, rowToEntry, valuesToEntry, type EntryRow } from './row-codec.js';
import { SQLITE_MIGRATIONS } from './sqlite-schema.js';
import { whereOf } from './sql-filter.js';
import type { AuditStore, EntryFilter, StoredCheckpoint } from './store.js';
import { TreeReader } from './tree-reader.js';

/** Options of {@link createSqliteAuditStore}. */
export interface SqliteAuditStoreOptions {
  /** Database file; created when missing (unless `readonly`). */
  readonly path: string;
  /** Default `'FULL'` (see the module notes). */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** Open without writing (offline verification). Default false. */
  readonly readonly?: boolean;
}

const CATCH_UP_LIMIT = 10_000;
const ID_CHUNK = 500;
const PAGE = 1000;
const SYNC_PAGE = 5000;

/** The SQLite store, with a synchronous iterator for fast offline verification. */
export interface SqliteAuditStore extends AuditStore {
  /** Entries with sequence in [from, to], read in large pages (offline verification). */
  iterateSync(from?: number, to?: number): IterableIterator<AuditEntry>;
  /** Like {@link SqliteAuditStore.iterateSync}, as undecoded rows (values in ENTRY_COLUMNS order). */
  rowsSync(from?: number, to?: number): IterableIterator<readonly unknown[]>;
}

/**
 * Opens (and migrates) a SQLite audit store.
 *
 * @example const store = await createSqliteAuditStore({ path: 'audit.db' });
 */
export async function createSqliteAuditStore(options: SqliteAuditStoreOptions): Promise<SqliteAuditStore> {
  const ro = options.readonly === true;
  // Owner-only: the log holds keyed hashes and sanitized detail, not for other users.
  if (!ro && options.path !== ':memory:' && !fs.existsSync(options.path)) fs.closeSync(fs.openSync(options.path, 'a', 0o600));
  const db = new Database(options.path, ro ? { readonly: true, fileMustExist: true } : {});
  if (!ro) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'NORMAL' ? 'NORMAL' : 'FULL'}`);
    // Appends touch the table's tail and a few index pages: 4 MB, not the 16 MB
    // better-sqlite3 builds with, which a growing log would fill page by page.
    db.pragma('cache_size = -4000');
  }
  db.pragma('busy_timeout = 5000');
  if (!ro) migrate(db);

  const cols = ENTRY_COLUMNS.join(', ');
  const q = {
    tail: db.prepare<[], { seq: number; event_hash: string }>('SELECT seq, event_hash FROM audit_entries ORDER BY seq DESC LIMIT 1'),
    hashesAfter: db.prepare<[number, number], { event_hash: string }>('SELECT event_hash FROM audit_entries WHERE seq > ? AND seq <= ? ORDER BY seq'),
    nodes: db.prepare<[number, number, number], { hash: Buffer }>('SELECT hash FROM audit_tree_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx'),
    page: db.prepare<[number, number, number], EntryRow>(`SELECT ${cols} FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`),
    // Rows as value arrays: much cheaper to fetch than objects (offline verification).
    rawPage: db.prepare<[number, number, number], unknown[]>(`SELECT ${cols} FROM audit_entries WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`).raw(true),
    one: db.prepare<[number], EntryRow>(`SELECT ${cols} FROM audit_entries WHERE seq = ?`),
    latest: db.prepare<[], CheckpointRow>('SELECT size, root_hash, note, created_at FROM audit_checkpoints ORDER BY size DESC LIMIT 1'),
    allCps: db.prepare<[], CheckpointRow>('SELECT size, root_hash, note, created_at FROM audit_checkpoints ORDER BY size'),
  };
  const w = ro
    ? undefined
    : {
        insert: db.prepare(`INSERT INTO audit_entries (${cols}) VALUES (${ENTRY_COLUMNS.map(() => '?').join(', ')})`),
        node: db.prepare('INSERT OR IGNORE INTO audit_tree_nodes (level, idx, hash) VALUES (?, ?, ?)'),
        checkpoint: db.prepare('INSERT OR IGNORE INTO audit_checkpoints (size, root_hash, note, created_at) VALUES (?, ?, ?, ?)'),
      };

  const tail = (): { size: number; hash: string } => {
    const r = q.tail.get();
    return r ? { size: r.seq, hash: r.event_hash } : { size: 0, hash: emptyHead().lastHash };
  };

  function* rowsSync(from = 1, to = Number.MAX_SAFE_INTEGER): IterableIterator<readonly unknown[]> {
    // Pages of `.all()` are several times faster than a row-at-a-time cursor.
    let next = from;
    for (;;) {
      const rows = q.rawPage.all(next, to, SYNC_PAGE);
      yield* rows;
      if (rows.length < SYNC_PAGE) return;
      next = Number(rows[rows.length - 1]![0]) + 1;
    }
  }

  const store: SqliteAuditStore = {
    kind: 'sqlite',
    init: async () => undefined,
    leafHashes: async (start, end) => q.hashesAfter.all(start, end).map((r) => leafHashOf(r.event_hash)),
    nodeHashes: async (level, start, end) => q.nodes.all(level, start, end).map((r) => r.hash),
    async append(events, loggedAt) {
      if (!w) throw new TypeError('store opened read-only');
      if (events.length === 0) return [];
      // Optimistic first try: duplicates are rare (resends after a lost reply), so the ids
      // are not looked up; a UNIQUE violation rolls back and the batch is redone with lookups.
      let lookup = false;
      for (let attempt = 0; ; attempt++) {
        const h = head ?? (await loadHead());
        try {
          const plan = appendTx(h, events, loggedAt, lookup);
          head = plan.head;
          return plan.outcomes;
        } catch (err) {
          if (!lookup && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
            lookup = true;
            continue;
          }
          head = undefined;
          if (!(err instanceof StaleHeadError) || attempt >= 3) throw err;
        }
      }
    },
    size: async () => tail().size,
    async *entries(from = 1, to = Number.MAX_SAFE_INTEGER) {
      let next = from;
      for (;;) {
        const rows = q.page.all(next, to, PAGE);
        for (const r of rows) yield rowToEntry(r);
        if (rows.length < PAGE) return;
        next = Number(rows[rows.length - 1]!.seq) + 1;
      }
    },
    *iterateSync(from = 1, to = Number.MAX_SAFE_INTEGER) {
      for (const r of rowsSync(from, to)) yield valuesToEntry(r);
    },
    rowsSync,
    get: async (sequence) => {
      const r = q.one.get(sequence);
      return r ? rowToEntry(r) : undefined;
    },
    async query(filter: EntryFilter, limit: number) {
      const where = whereOf(filter);
      const rows = db.prepare<unknown[], EntryRow>(`SELECT ${cols} FROM audit_entries WHERE ${where.sql} ORDER BY seq LIMIT ?`).all(...where.params, limit);
      return rows.map(rowToEntry);
    },
    async addCheckpoint(cp: SignedCheckpoint, createdAt: number) {
      if (!w) throw new TypeError('store opened read-only');
      w.checkpoint.run(cp.size, cp.rootHash, cp.note, createdAt);
    },
    latestCheckpoint: async () => {
      const r = q.latest.get();
      return r ? checkpointOf(r) : undefined;
    },
    checkpoints: async () => q.allCps.all().map(checkpointOf),
    close: async () => {
      db.close();
    },
  };

  let head: ChainHead | undefined;
  const reader = new TreeReader(store);
  const loadHead = async (): Promise<ChainHead> => {
    const t = tail();
    return { size: t.size, lastHash: t.hash, frontier: await reader.frontier(t.size) };
  };

  // The whole batch in one IMMEDIATE transaction: the write lock is taken before the
  // tail is read, so no other connection can interleave (gap-free sequencing).
  const byId = new Map<number, Database.Statement<string[], { event_id: string; seq: number }>>();
  const lookupIds = (chunk: string[]) => {
    let st = byId.get(chunk.length);
    if (!st) {
      st = db.prepare(`SELECT event_id, seq FROM audit_entries WHERE event_id IN (${chunk.map(() => '?').join(',')})`);
      byId.set(chunk.length, st);
    }
    return st.all(...chunk);
  };
  const appendTx = db.transaction((h: ChainHead, events: readonly AuditEventFields[], loggedAt: number, lookup: boolean) => {
    const t = tail();
    let current = h;
    if (t.size !== h.size || t.hash !== h.lastHash) {
      if (t.size <= h.size || t.size - h.size > CATCH_UP_LIMIT) throw new StaleHeadError('chain head moved');
      // Another writer appended: extend the frontier with its entries.
      const frontier = h.frontier.clone();
      for (const r of q.hashesAfter.all(h.size, t.size)) frontier.append(leafHashOf(r.event_hash));
      if (frontier.size !== t.size) throw new StaleHeadError('gap in the log');
      current = { size: t.size, lastHash: t.hash, frontier };
    }
    const existing = new Map<string, number>();
    if (lookup) {
      const ids = [...new Set(events.map((e) => e.eventId))];
      for (let i = 0; i < ids.length; i += ID_CHUNK) for (const r of lookupIds(ids.slice(i, i + ID_CHUNK))) existing.set(r.event_id, r.seq);
    }
    const plan = planAppend(current, events, existing, loggedAt);
    for (const e of plan.entries) w!.insert.run(...entryToValues(e));
    for (const n of plan.nodes) w!.node.run(n.level, n.index, n.hash);
    return plan;
  }).immediate;

  return store;
}

interface CheckpointRow {
  size: number;
  root_hash: Buffer;
  note: string;
  created_at: number;
}

const checkpointOf = (r: CheckpointRow): StoredCheckpoint => {
  const origin = r.note.slice(0, r.note.indexOf('\n'));
  return { origin, size: Number(r.size), rootHash: Buffer.from(r.root_hash), note: r.note, createdAt: Number(r.created_at) };
};

function migrate(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS audit_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
  const run = db.transaction(() => {
    const done = new Set(db.prepare<[], { version: number }>('SELECT version FROM audit_schema_migrations').all().map((r) => r.version));
    for (const m of SQLITE_MIGRATIONS) {
      if (done.has(m.version)) continue;
      db.exec(m.sql);
      db.prepare('INSERT INTO audit_schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
    }
  });
  run.immediate();
}
