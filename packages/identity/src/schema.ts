/**
 * Identity's tables (prefix `identity_`). Times are Unix milliseconds in BIGINT columns.
 * Launch tokens and nonces are stored only as SHA-256 hashes; their single use is
 * enforced by `UPDATE … WHERE used_at IS NULL` statements, which hold across replicas.
 */
import type { Migration } from '@baton/store';

const tables = [
  `CREATE TABLE identity_workflows (
    id TEXT PRIMARY KEY,
    policy TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
  )`,
  `CREATE TABLE identity_orchestrators (
    id TEXT PRIMARY KEY,
    jkt TEXT NOT NULL UNIQUE,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
  )`,
  `CREATE TABLE identity_orchestrator_workflows (
    orchestrator_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    PRIMARY KEY (orchestrator_id, workflow_id)
  )`,
  `CREATE TABLE identity_launch_tokens (
    hash TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL,
    orchestration_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    scopes TEXT NOT NULL,
    audiences TEXT NOT NULL,
    task_deadline BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
  )`,
  'CREATE INDEX identity_launch_tokens_expiry ON identity_launch_tokens (expires_at)',
  `CREATE TABLE identity_nonces (
    hash TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
  )`,
  'CREATE INDEX identity_nonces_expiry ON identity_nonces (expires_at)',
  `CREATE TABLE identity_agents (
    spiffe_id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL UNIQUE,
    workflow_id TEXT NOT NULL,
    orchestration_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    name TEXT NOT NULL,
    principal TEXT NOT NULL,
    jkt TEXT NOT NULL,
    public_key TEXT NOT NULL,
    status TEXT NOT NULL,
    task_deadline BIGINT NOT NULL,
    heartbeat_interval INTEGER NOT NULL,
    misses_before_flag INTEGER NOT NULL,
    revoke_on_flag INTEGER NOT NULL,
    registered_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    task_state INTEGER NOT NULL,
    flagged_at BIGINT,
    superseded_by TEXT,
    revoke_pending INTEGER NOT NULL
  )`,
  'CREATE INDEX identity_agents_task ON identity_agents (orchestration_id, task_id, name, status)',
  'CREATE INDEX identity_agents_liveness ON identity_agents (status, last_seen_at)',
  'CREATE INDEX identity_agents_deadline ON identity_agents (task_deadline)',
  `CREATE TABLE identity_discovery (
    orchestration_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    name TEXT NOT NULL,
    spiffe_id TEXT NOT NULL,
    address TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (orchestration_id, task_id, name)
  )`,
];

/** Identity's schema steps, for `migrate(db, 'identity', IDENTITY_MIGRATIONS)`. */
export const IDENTITY_MIGRATIONS: readonly Migration[] = Object.freeze([
  // The DDL is portable between SQLite and PostgreSQL as written.
  { version: 1, name: 'identity tables', sqlite: tables, postgres: tables },
]);
