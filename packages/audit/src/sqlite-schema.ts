/**
 * SQLite schema of the audit log, as ordered migrations recorded in
 * `audit_schema_migrations`. Append-only is enforced by triggers that abort any UPDATE
 * or DELETE on the log's tables.
 */

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
CREATE TABLE audit_entries (
  seq INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  logged_at INTEGER NOT NULL,
  prev_hash TEXT NOT NULL,
  event_hash TEXT NOT NULL,
  time INTEGER NOT NULL,
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
  request_bytes INTEGER NOT NULL,
  token_bytes INTEGER NOT NULL,
  attributes TEXT NOT NULL,
  count INTEGER NOT NULL,
  first_time INTEGER NOT NULL,
  last_time INTEGER NOT NULL
);
CREATE INDEX audit_entries_agent ON audit_entries (agent, seq);
CREATE INDEX audit_entries_task ON audit_entries (task, seq);
CREATE INDEX audit_entries_workflow ON audit_entries (workflow, seq);
CREATE INDEX audit_entries_type ON audit_entries (type, seq);
CREATE INDEX audit_entries_time ON audit_entries (time);
CREATE INDEX audit_entries_trace ON audit_entries (trace_id) WHERE trace_id <> '';
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
