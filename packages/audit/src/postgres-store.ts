/**
 * The scale-out audit store: PostgreSQL shared by several authority replicas.
 *
 * One sequencer across replicas: every append transaction first takes a
 * transaction-scoped advisory lock (`pg_advisory_xact_lock`) keyed by the schema, then
 * reads the chain head, so appends are serialized, sequences are gap-free and each
 * `prev_hash` is the previous entry's hash. The lock is released by COMMIT/ROLLBACK.
 */
import pg from 'pg';
import { planAppend, type ChainHead } from './append-plan.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { ZERO_HASH, leafHashOf } from './entry-hash.js';
import type { AuditEventFields } from './event.js';
import { postgresMigrations, quoteSchema } from './postgres-schema.js';
import { ENTRY_COLUMNS, entryToValues, rowToEntry, type EntryRow } from './row-codec.js';
import { whereOf } from './sql-filter.js';
import type { AuditStore, EntryFilter, StoredCheckpoint } from './store.js';
import { TreeReader, type TreeStorage } from './tree-reader.js';

/** Options of {@link createPostgresAuditStore}. */
export interface PostgresAuditStoreOptions {
  /** A pool to use (not closed by the store), or a connection string for a new one. */
  readonly pool?: pg.Pool;
  readonly connectionString?: string;
  /** Schema holding the tables; created when missing. Default `public`. */
  readonly schema?: string;
}

type Queryable = Pick<pg.PoolClient, 'query'>;
const INSERT_ROWS = 500;
const CATCH_UP_LIMIT = 10_000;
const cols = ENTRY_COLUMNS.join(', ');
const dollar = (sql: string, offset = 0): string => {
  let i = offset;
  return sql.replace(/\?/g, () => `$${++i}`);
};

/**
 * Opens (and migrates) a PostgreSQL audit store.
 *
 * @example const store = await createPostgresAuditStore({ connectionString: process.env.DATABASE_URL, schema: 'audit' });
 */
export async function createPostgresAuditStore(options: PostgresAuditStoreOptions): Promise<AuditStore> {
  const schemaName = options.schema ?? 'public';
  const s = quoteSchema(schemaName);
  const ownPool = !options.pool;
  const pool = options.pool ?? new pg.Pool({ connectionString: options.connectionString, max: 8 });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  if (!options.pool) pool.on('error', () => undefined);
  const lockKey = `baton.audit:${schemaName}`;

  const tx = async <T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> => {
    const c = await pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  };

  await tx(async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${lockKey}:migrate`]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${s}.audit_schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`);
    const done = new Set((await c.query<{ version: number }>(`SELECT version FROM ${s}.audit_schema_migrations`)).rows.map((r) => r.version));
    for (const m of postgresMigrations(s)) {
      if (done.has(m.version)) continue;
      await c.query(m.sql);
      await c.query(`INSERT INTO ${s}.audit_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`, [m.version, m.name, Date.now()]);
    }
  });

  const treeOf = (c: Queryable): TreeStorage => ({
    leafHashes: async (start, end) =>
      (await c.query<{ event_hash: string }>(`SELECT event_hash FROM ${s}.audit_entries WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [start, end])).rows.map((r) =>
        leafHashOf(r.event_hash),
      ),
    nodeHashes: async (level, start, end) =>
      (await c.query<{ hash: Buffer }>(`SELECT hash FROM ${s}.audit_tree_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx`, [level, start, end])).rows.map(
        (r) => r.hash,
      ),
  });
  const tail = async (c: Queryable): Promise<{ size: number; hash: string }> => {
    const r = (await c.query<{ seq: string; event_hash: string }>(`SELECT seq, event_hash FROM ${s}.audit_entries ORDER BY seq DESC LIMIT 1`)).rows[0];
    return r ? { size: Number(r.seq), hash: r.event_hash } : { size: 0, hash: ZERO_HASH };
  };
  const poolTree = treeOf(pool);
  let head: ChainHead | undefined;

  // Brings the cached head up to the database's (other replicas may have appended).
  const sync = async (c: Queryable, h: ChainHead | undefined): Promise<ChainHead> => {
    const t = await tail(c);
    if (h && t.size === h.size && t.hash === h.lastHash) return h;
    if (h && t.size > h.size && t.size - h.size <= CATCH_UP_LIMIT) {
      const frontier = h.frontier.clone();
      const rows = await c.query<{ event_hash: string }>(`SELECT event_hash FROM ${s}.audit_entries WHERE seq > $1 AND seq <= $2 ORDER BY seq`, [h.size, t.size]);
      for (const r of rows.rows) frontier.append(leafHashOf(r.event_hash));
      if (frontier.size === t.size) return { size: t.size, lastHash: t.hash, frontier };
    }
    return { size: t.size, lastHash: t.hash, frontier: await new TreeReader(treeOf(c)).frontier(t.size) };
  };

  const insertEntries = async (c: Queryable, values: Array<Array<string | number>>): Promise<void> => {
    for (let i = 0; i < values.length; i += INSERT_ROWS) {
      const chunk = values.slice(i, i + INSERT_ROWS);
      const n = ENTRY_COLUMNS.length;
      const tuples = chunk.map((_, r) => `(${ENTRY_COLUMNS.map((__, k) => `$${r * n + k + 1}`).join(', ')})`);
      await c.query(`INSERT INTO ${s}.audit_entries (${cols}) VALUES ${tuples.join(', ')}`, chunk.flat());
    }
  };

  return {
    kind: 'postgres',
    init: async () => undefined,
    ...poolTree,
    async append(events: readonly AuditEventFields[], loggedAt: number) {
      if (events.length === 0) return [];
      try {
        const plan = await tx(async (c) => {
          await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey]);
          const current = await sync(c, head);
          const ids = [...new Set(events.map((e) => e.eventId))];
          const found = await c.query<{ event_id: string; seq: string }>(`SELECT event_id, seq FROM ${s}.audit_entries WHERE event_id = ANY($1::text[])`, [ids]);
          const existing = new Map(found.rows.map((r) => [r.event_id, Number(r.seq)]));
          const p = planAppend(current, events, existing, loggedAt);
          await insertEntries(c, p.entries.map(entryToValues));
          if (p.nodes.length > 0) {
            const tuples = p.nodes.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`);
            await c.query(
              `INSERT INTO ${s}.audit_tree_nodes (level, idx, hash) VALUES ${tuples.join(', ')} ON CONFLICT DO NOTHING`,
              p.nodes.flatMap((n) => [n.level, n.index, n.hash]),
            );
          }
          return p;
        });
        head = plan.head;
        return plan.outcomes;
      } catch (err) {
        head = undefined;
        throw err;
      }
    },
    size: async () => (await tail(pool)).size,
    async *entries(from = 1, to = Number.MAX_SAFE_INTEGER) {
      let next = from;
      for (;;) {
        const rows = (await pool.query<EntryRow>(`SELECT ${cols} FROM ${s}.audit_entries WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT 1000`, [next, to])).rows;
        for (const r of rows) yield rowToEntry(r);
        if (rows.length < 1000) return;
        next = Number(rows[rows.length - 1]!.seq) + 1;
      }
    },
    get: async (sequence) => {
      const r = (await pool.query<EntryRow>(`SELECT ${cols} FROM ${s}.audit_entries WHERE seq = $1`, [sequence])).rows[0];
      return r ? rowToEntry(r) : undefined;
    },
    async query(filter: EntryFilter, limit: number) {
      const w = whereOf(filter);
      const sql = `SELECT ${cols} FROM ${s}.audit_entries WHERE ${dollar(w.sql)} ORDER BY seq LIMIT $${w.params.length + 1}`;
      return (await pool.query<EntryRow>(sql, [...w.params, limit])).rows.map(rowToEntry);
    },
    async addCheckpoint(cp: SignedCheckpoint, createdAt: number) {
      await pool.query(`INSERT INTO ${s}.audit_checkpoints (size, root_hash, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [
        cp.size,
        cp.rootHash,
        cp.note,
        createdAt,
      ]);
    },
    latestCheckpoint: async () => {
      const r = (await pool.query<CheckpointRow>(`SELECT size, root_hash, note, created_at FROM ${s}.audit_checkpoints ORDER BY size DESC LIMIT 1`)).rows[0];
      return r ? checkpointOf(r) : undefined;
    },
    checkpoints: async () => (await pool.query<CheckpointRow>(`SELECT size, root_hash, note, created_at FROM ${s}.audit_checkpoints ORDER BY size`)).rows.map(checkpointOf),
    close: async () => {
      if (ownPool) await pool.end();
    },
  };
}

interface CheckpointRow {
  size: string;
  root_hash: Buffer;
  note: string;
  created_at: string;
}

const checkpointOf = (r: CheckpointRow): StoredCheckpoint => ({
  origin: r.note.slice(0, r.note.indexOf('\n')),
  size: Number(r.size),
  rootHash: Buffer.from(r.root_hash),
  note: r.note,
  createdAt: Number(r.created_at),
});
