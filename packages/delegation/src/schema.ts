/**
 * Delegation's tables: every chain it ever countersigned (GetChain serves them; guards
 * cache them by hash) and every hop (audit and HOP-level revocation look-ups).
 */
import type { Migration } from '@baton/store';

const chains = `CREATE TABLE delegation_chains (
  chain_hash TEXT PRIMARY KEY,
  root_token_hash TEXT NOT NULL,
  root_jti TEXT NOT NULL,
  hops TEXT NOT NULL,
  depth INTEGER NOT NULL,
  exp BIGINT NOT NULL,
  created_at BIGINT NOT NULL
)`;

const hops = `CREATE TABLE delegation_hops (
  hop_hash TEXT PRIMARY KEY,
  chain_hash TEXT NOT NULL,
  parent_chain_hash TEXT NOT NULL,
  depth INTEGER NOT NULL,
  delegator TEXT NOT NULL,
  delegatee TEXT NOT NULL,
  principal TEXT NOT NULL,
  workflow TEXT NOT NULL,
  scopes TEXT NOT NULL,
  exp BIGINT NOT NULL,
  child_jti TEXT,
  created_at BIGINT NOT NULL
)`;

const indexes = [
  'CREATE INDEX delegation_chains_exp ON delegation_chains (exp)',
  'CREATE INDEX delegation_hops_exp ON delegation_hops (exp)',
  'CREATE INDEX delegation_hops_delegator ON delegation_hops (delegator)',
  'CREATE INDEX delegation_hops_delegatee ON delegation_hops (delegatee)',
];

/** Delegation's schema steps (SQLite and PostgreSQL share the DDL). */
export const DELEGATION_MIGRATIONS: readonly Migration[] = Object.freeze([
  { version: 1, name: 'chains and hops', sqlite: [chains, hops, ...indexes], postgres: [chains, hops, ...indexes] },
]);
