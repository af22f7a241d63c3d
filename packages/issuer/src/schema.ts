import { migrate, type Migration, type SqlDatabase } from '@baton/store';

// Same DDL for both dialects except where noted; BIGINT holds seconds and sequences.
const tokens = `CREATE TABLE issuer_tokens (
  jti TEXT PRIMARY KEY,
  sub TEXT NOT NULL,
  iid TEXT NOT NULL,
  task_id TEXT NOT NULL,
  orch_id TEXT NOT NULL,
  wf TEXT NOT NULL,
  principal TEXT NOT NULL,
  scopes TEXT NOT NULL,
  aud TEXT NOT NULL,
  cnf_jkt TEXT NOT NULL,
  cnf_x5t TEXT,
  kid TEXT NOT NULL,
  iat BIGINT NOT NULL,
  exp BIGINT NOT NULL,
  tdl BIGINT NOT NULL,
  cap_exp BIGINT,
  rnw INTEGER NOT NULL,
  max_renewals INTEGER NOT NULL,
  default_ttl INTEGER NOT NULL,
  max_ttl INTEGER NOT NULL,
  status TEXT NOT NULL,
  lineage TEXT NOT NULL,
  delegation TEXT,
  reference TEXT
)`;

const hops = `CREATE TABLE issuer_token_hops (
  jti TEXT NOT NULL REFERENCES issuer_tokens (jti) ON DELETE CASCADE,
  hop TEXT NOT NULL,
  PRIMARY KEY (jti, hop)
)`;

const revocations = `CREATE TABLE issuer_revocations (
  seq BIGINT PRIMARY KEY,
  level TEXT NOT NULL,
  target TEXT NOT NULL,
  reason TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  not_after_iat BIGINT NOT NULL,
  actor TEXT NOT NULL
)`;

const counters = 'CREATE TABLE issuer_counters (name TEXT PRIMARY KEY, value BIGINT NOT NULL)';

const references = `CREATE TABLE issuer_references (
  ref TEXT PRIMARY KEY,
  delegation TEXT NOT NULL,
  exp BIGINT NOT NULL
)`;

const indexes = [
  'CREATE INDEX issuer_tokens_sub ON issuer_tokens (sub)',
  'CREATE INDEX issuer_tokens_task ON issuer_tokens (orch_id, task_id)',
  'CREATE INDEX issuer_tokens_wf ON issuer_tokens (wf)',
  'CREATE INDEX issuer_tokens_kid ON issuer_tokens (kid)',
  'CREATE INDEX issuer_tokens_exp ON issuer_tokens (exp)',
  'CREATE INDEX issuer_token_hops_hop ON issuer_token_hops (hop)',
  'CREATE INDEX issuer_revocations_expires ON issuer_revocations (expires_at)',
  'CREATE INDEX issuer_revocations_target ON issuer_revocations (level, target)',
  'CREATE INDEX issuer_references_exp ON issuer_references (exp)',
];

// `revocation_seq` is the last sequence handed out; `revocation_pruned` the highest sequence
// ever pruned (a watcher resuming below it must take a reset snapshot).
const seedCounters = "INSERT INTO issuer_counters (name, value) VALUES ('revocation_seq', 0), ('revocation_pruned', 0)";

// Signing keys shared by replicas (openStoreKeyRing): public JWK in clear, the private
// key of the active kid only sealed under the key-encryption key (AES-256-GCM), dropped
// at retirement. `keyring_version` counts changes so replicas reload only when needed.
const signingKeys = `CREATE TABLE issuer_signing_keys (
  kid TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  public_jwk TEXT NOT NULL,
  sealed_private TEXT,
  cover_exp BIGINT NOT NULL,
  created_at BIGINT NOT NULL
)`;
const seedKeyringVersion = "INSERT INTO issuer_counters (name, value) VALUES ('keyring_version', 0)";

/** The issuer's schema steps (SQLite and PostgreSQL). */
export const ISSUER_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: 'tokens, revocations, references',
    sqlite: [tokens, hops, revocations, counters, references, ...indexes, seedCounters],
    postgres: [tokens, hops, revocations, counters, references, ...indexes, seedCounters],
  },
  {
    version: 2,
    name: 'signing keys shared by replicas',
    sqlite: [signingKeys, seedKeyringVersion],
    postgres: [signingKeys, seedKeyringVersion],
  },
]);

/** Creates or upgrades the issuer's tables (idempotent, safe across replicas). */
export async function migrateIssuer(db: SqlDatabase): Promise<number> {
  return migrate(db, 'issuer', ISSUER_MIGRATIONS);
}
