// @baton/store: the SQL surface Baton's services share (SQLite by default, PostgreSQL to scale out).
export type { Dialect, RunResult, SqlDatabase, SqlExecutor, SqlValue } from './database.js';
export { openDatabase } from './open-database.js';
export { openSqlite } from './sqlite.js';
export type { SqliteOptions } from './sqlite.js';
export { openPostgres, toPgPlaceholders } from './postgres.js';
export type { PostgresOptions } from './postgres.js';
export { migrate } from './migrate.js';
export type { Migration } from './migrate.js';
export { assertPrivate, ensurePrivateDir, readKeyJwk, readSecretFile, writeKeyJwk, writeSecretFile } from './secret-files.js';
export { openKeyDirectory } from './key-directory.js';
export type { KeyDirectory } from './key-directory.js';
