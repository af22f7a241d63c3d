/**
 * SQLite schema of the audit log, as ordered migrations recorded in
 * `audit_schema_migrations`. Append-only is enforced by triggers that abort any UPDATE
 * or DELETE on the log's tables.
 */
import { entriesTableSql } from './entry-table.js';

/** One schema step; applied once, in version order, in its own transaction. */
export interface AuditMigration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const appendOnly = (table: string): string => `
CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
`;

/** SQLite migrations of the audit store. */
export const SQLITE_MIGRATIONS: readonly AuditMigration[] = Object.freeze([
  {
    version: 1,
    name: 'entries, subtree hashes, checkpoints',
    sql: `
${entriesTableSql('audit_entries', { int: 'INTEGER', bigint: 'INTEGER' })}
CREATE TABLE audit_tree_nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE audit_checkpoints (
  size INTEGER PRIMARY KEY,
  root_hash BLOB NOT NULL,
  note TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
${appendOnly('audit_entries')}
${appendOnly('audit_tree_nodes')}
${appendOnly('audit_checkpoints')}
`,
  },
]);
