/**
 * PostgreSQL schema of the audit log, as ordered migrations recorded in
 * `audit_schema_migrations`. Every statement is qualified with the store's schema, so
 * several logs (or test runs) can share one database. Triggers refuse UPDATE, DELETE and
 * TRUNCATE on the log's tables.
 */
import { entriesTableSql } from './entry-table.js';
import type { AuditMigration } from './sqlite-schema.js';

/** Quotes a validated schema name as an identifier. */
export function quoteSchema(schema: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new TypeError('schema must match [a-z_][a-z0-9_]{0,62}');
  return `"${schema}"`;
}

const appendOnly = (s: string, table: string): string => `
CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${s}.${table}
  FOR EACH ROW EXECUTE FUNCTION ${s}.audit_refuse_change();
CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${s}.${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_refuse_change();
`;

/** PostgreSQL migrations of the audit store, for the (quoted) schema `s`. */
export function postgresMigrations(s: string): readonly AuditMigration[] {
  return [
    {
      version: 1,
      name: 'entries, subtree hashes, checkpoints',
      sql: `
${entriesTableSql(`${s}.audit_entries`, { int: 'INTEGER', bigint: 'BIGINT' })}
CREATE TABLE ${s}.audit_tree_nodes (
  level INTEGER NOT NULL,
  idx BIGINT NOT NULL,
  hash BYTEA NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE ${s}.audit_checkpoints (
  size BIGINT PRIMARY KEY,
  root_hash BYTEA NOT NULL,
  note TEXT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE FUNCTION ${s}.audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
${appendOnly(s, 'audit_entries')}
${appendOnly(s, 'audit_tree_nodes')}
${appendOnly(s, 'audit_checkpoints')}
`,
    },
  ];
}
