import type { SqlDatabase } from './database.js';
import { openPostgres, type PostgresOptions } from './postgres.js';
import { openSqlite, type SqliteOptions } from './sqlite.js';

/**
 * Opens a store from a URL: `postgres://…` / `postgresql://…` for PostgreSQL, `sqlite:<path>`
 * or a bare file path for SQLite, `:memory:` for a throwaway in-memory SQLite.
 */
export async function openDatabase(url: string, options: SqliteOptions & PostgresOptions = {}): Promise<SqlDatabase> {
  if (/^postgres(ql)?:\/\//.test(url)) return openPostgres(url, options);
  const file = url.startsWith('sqlite:') ? url.slice('sqlite:'.length) : url;
  if (!file) throw new TypeError('empty database location');
  return openSqlite(file, options);
}
