import pg from 'pg';
import type { RunResult, SqlDatabase, SqlExecutor, SqlValue } from './database.js';

/** `?` placeholders → `$1…$n`. Statements must not contain a literal `?`. */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const converted = new Map<string, string>();
function pgSql(sql: string): string {
  let s = converted.get(sql);
  if (s === undefined) {
    s = toPgPlaceholders(sql);
    if (converted.size > 1024) converted.clear();
    converted.set(sql, s);
  }
  return s;
}

function params(p: readonly SqlValue[] | undefined): unknown[] {
  return p ? p.map((v) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v) : v)) : [];
}

function executor(q: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    dialect: 'postgres',
    async all<T>(sql: string, p?: readonly SqlValue[]): Promise<T[]> {
      return (await q.query(pgSql(sql), params(p))).rows as T[];
    },
    async get<T>(sql: string, p?: readonly SqlValue[]): Promise<T | undefined> {
      return (await q.query(pgSql(sql), params(p))).rows[0] as T | undefined;
    },
    async run(sql: string, p?: readonly SqlValue[]): Promise<RunResult> {
      return { changes: (await q.query(pgSql(sql), params(p))).rowCount ?? 0 };
    },
  };
}

/** Options for {@link openPostgres}. */
export interface PostgresOptions {
  /** Pool size. Default 10. */
  readonly max?: number;
  /** Schema to use (created if missing); isolates tests. Default `public`. */
  readonly schema?: string;
}

/** Connects a pool to PostgreSQL. Credentials never appear in `location`. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<SqlDatabase> {
  const schema = options.schema;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError(`invalid schema name: ${schema}`);
  if (schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      // Serialized: concurrent CREATE SCHEMA IF NOT EXISTS races in PostgreSQL.
      await admin.query('BEGIN');
      await admin.query("SELECT pg_advisory_xact_lock(hashtext('baton_schema'))");
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await admin.query('COMMIT');
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
    // Int8 (sequences, COUNT) as JS numbers; Baton's values stay far below 2^53.
    types: { getTypeParser: (oid: number, format?: string) => (oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser as (o: number, f?: string) => unknown)(oid, format)) } as pg.CustomTypesConfig,
  });
  // An idle client losing its connection (server restart, admin kill) must not crash the
  // process: the pool drops it and the next query reconnects.
  pool.on('error', () => undefined);
  const base = executor(pool);
  const u = new URL(url);
  u.password = '';
  u.username = '';
  return {
    ...base,
    location: u.toString(),
    async exec(sql) {
      await pool.query(sql);
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const out = await fn(executor(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
}
