import path from 'node:path';
import {
  createAuditClient,
  createAuditLog,
  createAuditService,
  createNoteSigner,
  createPostgresAuditStore,
  createSanitizer,
  createSqliteAuditStore,
  formatVerifierKey,
  grpcAuditTransport,
  keyProofAuthorizer,
  type AuditClient,
  type AuditLog,
} from '@baton/audit';
import { ReplayCache, type Clock, type KeyPair } from '@baton/core';
import type { ServiceImpl } from '@baton/proto';
import type { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import type { AuthorityConfig } from './config.js';
import type { PeerChannel } from './peer-channels.js';
import { loadOrCreateKeyFile, loadOrCreateSecretFile } from './key-files.js';

/** The audit log hosted by this process and its gRPC service. */
export interface HostedAudit {
  readonly log: AuditLog;
  readonly service: ServiceImpl<typeof AuditService>;
  close(): Promise<void>;
}

/** Origin line of this authority's checkpoints (C2SP checkpoint format). */
export function auditOrigin(config: AuthorityConfig): string {
  return `${config.trustDomain}/baton/audit`;
}

/** The public checkpoint verifier key (C2SP note form) that the trust bundle publishes. */
export function auditVerifierKey(config: AuthorityConfig): string {
  return formatVerifierKey(auditOrigin(config), auditLogKey(config).publicKey);
}

/** The checkpoint-signing key (`<dataDir>/keys/audit-log.jwk`, 0600). */
export function auditLogKey(config: AuthorityConfig): KeyPair {
  return loadOrCreateKeyFile(path.join(config.dataDir, 'keys', 'audit-log.jwk'));
}

/**
 * The key behind the sanitizer's keyed hashes (principals, free text). Kept apart from the
 * log so hashes stay stable across restarts and can be correlated, but not reversed.
 * `<dataDir>/keys/audit-hmac.key` (0600), created whole or not at all.
 */
export function auditHmacKey(config: AuthorityConfig): Buffer {
  return loadOrCreateSecretFile(path.join(config.dataDir, 'keys', 'audit-hmac.key'));
}

/** Where the audit log lives: `<dataDir>/audit.db` by default, or the PostgreSQL store. */
function openAuditStore(config: AuthorityConfig) {
  if (/^postgres(ql)?:\/\//.test(config.store)) return createPostgresAuditStore({ connectionString: config.store });
  return createSqliteAuditStore({ path: path.join(config.dataDir, 'audit.db') });
}

/**
 * Opens the log and its service. Appends are accepted from Baton's own services and from
 * the resource servers listed in the config (by key); reads from operators.
 */
export async function hostAudit(
  config: AuthorityConfig,
  writers: ReadonlySet<string>,
  readers: ReadonlySet<string>,
  clock: Clock,
): Promise<HostedAudit> {
  const store = await openAuditStore(config);
  const log = await createAuditLog({
    store,
    signer: createNoteSigner(auditOrigin(config), auditLogKey(config)),
    origin: auditOrigin(config),
    sanitizer: createSanitizer({ key: auditHmacKey(config) }),
    clock,
    onError: (err) => process.stderr.write(`[audit] ${String((err as Error)?.message ?? err)}\n`),
  });
  const replayCache = new ReplayCache();
  const service = createAuditService(log, {
    authorizeAppend: keyProofAuthorizer({ isAllowed: (jkt) => writers.has(jkt), replayCache, clock }),
    authorizeRead: keyProofAuthorizer({ isAllowed: (jkt) => readers.has(jkt), replayCache, clock }),
  });
  return {
    log,
    service,
    async close() {
      await log.close();
      await store.close();
    },
  };
}

/**
 * The durable audit client one Baton service emits through: events are fsynced to its
 * spool (`<dataDir>/spool/<source>`) before `emit` resolves, then shipped in order.
 */
export function auditClientFor(config: AuthorityConfig, source: string, peer: PeerChannel, keyPair: KeyPair, clock: Clock): Promise<AuditClient> {
  return createAuditClient({
    transport: grpcAuditTransport({ target: peer.target, ...(peer.credentials ? { credentials: peer.credentials } : {}), keyPair, clock }),
    spoolDir: path.join(config.dataDir, 'spool', source),
    source,
    clock,
    onAlarm: (a) => process.stderr.write(`[audit:${source}] ${a.kind}: ${a.detail}\n`),
  });
}
