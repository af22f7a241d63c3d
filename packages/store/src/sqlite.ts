import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { RunResult, SqlDatabase, SqlExecutor, SqlValue } from './database.js';
import { createGroupCommit, type Group } from './group-commit.js';

type Stmt = Database.Statement<unknown[], unknown>;

/** Writers sharing one COMMIT before it happens without waiting for the next macrotask. */
const MAX_GROUP_MEMBERS = 256;
/** The savepoint each `transaction(fn)` runs in inside the shared group. */
const SAVEPOINT = 'baton_tx';

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
 *
 * Writes are group-committed: plain `run`s and `transaction`s that arrive while a group
 * is open share one `BEGIN IMMEDIATE … COMMIT` (one WAL fsync), each transaction inside
 * its own savepoint so that a throwing one is undone alone. A write's promise settles
 * only after the shared COMMIT returned; a failed COMMIT rejects every writer of the
 * group. Transactions never interleave, plain statements never run inside one, and
 * reads wait for the open group's COMMIT, so nobody sees a write before it is durable.
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
  // SQLite's own default (2 MB) rather than the 16 MB better-sqlite3 builds with: the hot
  // rows (live tokens, recent nonces) are few, and a page cache that keeps filling for an
  // hour as the file grows reads as steady growth of the process.
  db.pragma('cache_size = -2000');

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

  // While a transaction is running, other callers queue behind it instead of running inside it.
  let lock: Promise<void> | undefined;
  const groups = createGroupCommit(db, { maxMembers: MAX_GROUP_MEMBERS, transactionRunning: () => lock !== undefined });

  /** Reads and DDL wait for a running transaction and for an open group's COMMIT. */
  const settled = async (): Promise<void> => {
    for (;;) {
      const g = groups.current();
      if (lock) await lock;
      else if (g) await g.ended;
      else return;
    }
  };

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

  /**
   * The handle a transaction's callback gets: refuses to run a statement once the shared
   * transaction is gone (SQLite rolled it back on an I/O error), which would otherwise run
   * in autocommit mode and outlive the failure.
   */
  const inGroup = (g: Group): SqlExecutor => {
    const check = (): void => {
      if (groups.current() !== g || !db.inTransaction) throw new Error('the transaction was rolled back');
    };
    const failed = (err: unknown): never => {
      if (!db.inTransaction) groups.fail(g, err);
      throw err;
    };
    return {
      dialect: 'sqlite',
      async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
        check();
        return exec.all<T>(sql, params).catch(failed);
      },
      async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
        check();
        return exec.get<T>(sql, params).catch(failed);
      },
      async run(sql, params) {
        check();
        return exec.run(sql, params).catch(failed);
      },
    };
  };

  return {
    dialect: 'sqlite',
    location: file,
    async all(sql, params) {
      await settled();
      return exec.all(sql, params);
    },
    async get(sql, params) {
      await settled();
      return exec.get(sql, params);
    },
    async run(sql, params) {
      while (lock) await lock;
      const g = groups.open();
      let out: RunResult;
      try {
        out = { changes: prepare(sql).run(...bind(params)).changes };
      } catch (err) {
        // A failed statement is undone by SQLite on its own; the group goes on unless the
        // whole transaction went with it.
        if (!db.inTransaction) groups.fail(g, err);
        throw err;
      }
      return groups.join(g, out);
    },
    async exec(sql) {
      await settled();
      db.exec(sql);
    },
    async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      while (lock) await lock;
      let release!: () => void;
      lock = new Promise<void>((r) => (release = r));
      let g: Group | undefined;
      try {
        g = groups.open();
        db.exec(`SAVEPOINT ${SAVEPOINT}`);
      } catch (err) {
        if (g && !db.inTransaction) groups.fail(g, err);
        if (g) endTransaction(g, release);
        else {
          lock = undefined;
          release();
        }
        throw err;
      }
      let out: T;
      try {
        out = await fn(inGroup(g));
        if (groups.current() !== g) throw new Error('the transaction was rolled back');
        db.exec(`RELEASE ${SAVEPOINT}`);
      } catch (err) {
        // Undo this transaction only; the other members of the group keep their writes.
        if (groups.current() === g) {
          try {
            db.exec(`ROLLBACK TO ${SAVEPOINT}`);
            db.exec(`RELEASE ${SAVEPOINT}`);
          } catch (rollbackErr) {
            groups.fail(g, rollbackErr);
          }
        }
        endTransaction(g, release);
        throw err;
      }
      const acked = groups.join(g, out);
      endTransaction(g, release);
      return acked;
    },
    async close() {
      while (lock || groups.current()) {
        const g = groups.current();
        if (lock) await lock;
        else if (g) {
          groups.requestClose(g);
          await g.ended;
        }
      }
      db.close();
    },
  };

  /** Lets the next transaction in, first committing the group if its close waited for this one. */
  function endTransaction(g: Group, release: () => void): void {
    lock = undefined;
    groups.transactionEnded(g);
    release();
  }
}
