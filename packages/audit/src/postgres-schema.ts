/**
 * PostgreSQL schema of the audit log, as ordered migrations recorded in
 * `audit_schema_migrations`. Every statement is qualified with the store's schema, so
 * several logs (or test runs) can share one database. Triggers refuse UPDATE, DELETE and
 * TRUNCATE on the log's tables.
 */
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
CREATE TABLE ${s}.audit_entries (
  seq BIGINT PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  logged_at BIGINT NOT NULL,
  prev_hash TEXT NOT NULL,
  event_hash TEXT NOT NULL,
  time BIGINT NOT NULL,
  type TEXT NOT NULL,
  source TEXT NOT NULL,
  outcome TEXT NOT NULL,
  agent TEXT NOT NULL,
  task TEXT NOT NULL,
  orchestration TEXT NOT NULL,
  workflow TEXT NOT NULL,
  principal TEXT NOT NULL,
  action TEXT NOT NULL,
  resource TEXT NOT NULL,
  reason_code TEXT NOT NULL,
  reason_detail TEXT NOT NULL,
  delegation_depth INTEGER NOT NULL,
  chain_hash TEXT NOT NULL,
  intermediate_agents TEXT NOT NULL,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  request_bytes BIGINT NOT NULL,
  token_bytes BIGINT NOT NULL,
  attributes TEXT NOT NULL,
  count BIGINT NOT NULL,
  first_time BIGINT NOT NULL,
  last_time BIGINT NOT NULL
);
CREATE INDEX audit_entries_agent ON ${s}.audit_entries (agent, seq);
CREATE INDEX audit_entries_task ON ${s}.audit_entries (task, seq);
CREATE INDEX audit_entries_workflow ON ${s}.audit_entries (workflow, seq);
CREATE INDEX audit_entries_type ON ${s}.audit_entries (type, seq);
CREATE INDEX audit_entries_time ON ${s}.audit_entries (time);
CREATE INDEX audit_entries_trace ON ${s}.audit_entries (trace_id) WHERE trace_id <> '';
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
