/**
 * The one SQL surface Baton's services share. Statements use `?` placeholders in both
 * dialects; the PostgreSQL adapter rewrites them to `$n`. Single-use guarantees are made
 * with single atomic statements (`UPDATE … WHERE used = 0`, checking `changes`), never
 * read-then-write.
 */
export type Dialect = 'sqlite' | 'postgres';

/** A value bound to a `?` placeholder. */
export type SqlValue = string | number | bigint | boolean | null | Uint8Array;

/** Result of a write statement. */
export interface RunResult {
  /** Rows inserted, updated or deleted. */
  readonly changes: number;
}

/** Shared by a database and the handle passed to {@link SqlDatabase.transaction}. */
export interface SqlExecutor {
  readonly dialect: Dialect;
  /** Rows of a query. */
  all<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** A write statement. */
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

/** A connection (SQLite) or pool (PostgreSQL). */
export interface SqlDatabase extends SqlExecutor {
  /** Where it lives, with any credentials removed (safe to log). */
  readonly location: string;
  /** Several statements of DDL, no parameters. */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws;
   * the promise resolves once the commit is durable. On SQLite other statements wait
   * until the transaction ends, so nothing interleaves (the commit itself may be shared
   * with concurrent writers: group commit).
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
