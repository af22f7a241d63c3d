import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunResult, SqlDatabase, SqlExecutor, SqlValue } from './database.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** Options for {@link openSqlite}. */
export interface SqliteOptions {
  /**
   * `FULL` fsyncs the WAL on every commit so an acknowledged write survives power loss;
   * `NORMAL` survives process crashes only. Default `FULL`: Baton acknowledges
   * single-use consumption and audit events, and must not lose them.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /** Milliseconds to wait on a lock held by another process. Default 5000. */
  readonly busyTimeoutMs?: number;
}

function bind(params: readonly SqlValue[] | undefined): unknown[] {
  if (!params) return [];
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/**
 * Opens (creating if needed) a SQLite file in WAL mode. The file and its directory are
 * created owner-only (0600 / 0700): they hold hashes of single-use secrets.
 */
export function openSqlite(file: string, options: SqliteOptions = {}): SqlDatabase {
  if (file !== ':memory:') {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
    if (!fs.existsSync(file)) fs.closeSync(fs.openSync(file, 'a', 0o600));
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  db.pragma('foreign_keys = ON');

  const cache = new Map<string, Stmt>();
  const prepare = (sql: string): Stmt => {
    let s = cache.get(sql);
    if (!s) {
      s = db.prepare(sql);
      if (cache.size > 512) cache.clear();
      cache.set(sql, s);
    }
    return s;
  };

  // While a transaction is open, other callers queue behind it instead of running inside it.
  let lock: Promise<void> | undefined;

  const exec: SqlExecutor = {
    dialect: 'sqlite',
    async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
      return prepare(sql).all(...bind(params)) as T[];
    },
    async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
      return prepare(sql).get(...bind(params)) as T | undefined;
    },
    async run(sql: string, params?: readonly SqlValue[]): Promise<RunResult> {
      return { changes: prepare(sql).run(...bind(params)).changes };
    },
  };

  return {
    dialect: 'sqlite',
    location: file,
    async all(sql, params) {
      while (lock) await lock;
      return exec.all(sql, params);
    },
    async get(sql, params) {
      while (lock) await lock;
      return exec.get(sql, params);
    },
    async run(sql, params) {
      while (lock) await lock;
      return exec.run(sql, params);
    },
    async exec(sql) {
      while (lock) await lock;
      db.exec(sql);
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      while (lock) await lock;
      let release!: () => void;
      lock = new Promise<void>((r) => (release = r));
      db.exec('BEGIN IMMEDIATE');
      try {
        const out = await fn(exec);
        db.exec('COMMIT');
        return out;
      } catch (err) {
        if (db.inTransaction) db.exec('ROLLBACK');
        throw err;
      } finally {
        lock = undefined;
        release();
      }
    },
    async close() {
      while (lock) await lock;
      db.close();
    },
  };
}
