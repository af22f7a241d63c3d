import type { SqlDatabase } from './database.js';

/**
 * One schema step: its statements for each dialect (one statement per array element, so
 * trigger and function bodies need no splitting). A step runs once, in `version` order.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sqlite: readonly string[];
  readonly postgres: readonly string[];
}

/**
 * Applies the migrations of one component (`scope`, e.g. `identity`) that have not run yet,
 * each in its own transaction, recording them in `baton_migrations`. Safe to call
 * concurrently from several replicas on PostgreSQL (serialized by an advisory lock).
 */
export async function migrate(db: SqlDatabase, scope: string, migrations: readonly Migration[]): Promise<number> {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  let applied = 0;
  await db.transaction(async (tx) => {
    // One lock for every scope: concurrent CREATE TABLE IF NOT EXISTS races in PostgreSQL.
    if (tx.dialect === 'postgres') await tx.run("SELECT pg_advisory_xact_lock(hashtext('baton_migrations'))");
    await tx.run(
      'CREATE TABLE IF NOT EXISTS baton_migrations (scope TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (scope, version))',
    );
    const done = new Set(
      (await tx.all<{ version: number }>('SELECT version FROM baton_migrations WHERE scope = ?', [scope])).map((r) => Number(r.version)),
    );
    for (const m of sorted) {
      if (done.has(m.version)) continue;
      for (const stmt of tx.dialect === 'postgres' ? m.postgres : m.sqlite) await tx.run(stmt);
      await tx.run('INSERT INTO baton_migrations (scope, version, name, applied_at) VALUES (?, ?, ?, ?)', [scope, m.version, m.name, Date.now()]);
      applied++;
    }
  });
  return applied;
}
