/**
 * The issuer's signing keys and revocation fan-out, chosen by the store: one process on
 * SQLite (keys in `<dataDir>/keys/signing`, in-process fan-out), or several replicas on
 * PostgreSQL (keys shared through the store, sealed under `<dataDir>/keys/keyring.kek`;
 * revocations fanned out with LISTEN/NOTIFY). See docs/operations.md, "Scale-out".
 */
import path from 'node:path';
import type { Clock } from '@baton/core';
import { loadOrCreateKekFile, openFileKeyRing, openStoreKeyRing, postgresRevocationNotifier, type KeyRing, type RevocationNotifier } from '@baton/issuer';
import type { SqlDatabase } from '@baton/store';
import type { AuthorityConfig } from './config.js';

/** What the issuer shares with its replicas, if any. */
export interface IssuerSharing {
  readonly keyRing: KeyRing;
  /** Cross-replica fan-out; undefined = in-process only. */
  readonly notifier?: RevocationNotifier;
  /** True when keys and revocations are shared through PostgreSQL. */
  readonly shared: boolean;
  close(): Promise<void>;
}

/** How long startup waits for the LISTEN connection before going on (keep-alives cover the gap). */
const LISTEN_READY_MS = 10_000;

/** Opens the key ring and notifier that fit `db`. */
export async function openIssuerSharing(config: AuthorityConfig, db: SqlDatabase, clock: Clock): Promise<IssuerSharing> {
  if (db.dialect !== 'postgres') {
    const keyRing = await openFileKeyRing(path.join(config.dataDir, 'keys', 'signing'), { clock });
    return { keyRing, shared: false, close: async () => undefined };
  }
  const kek = await loadOrCreateKekFile(path.join(config.dataDir, 'keys', 'keyring.kek'));
  const keyRing = await openStoreKeyRing(db, {
    kek,
    clock,
    onError: (err) => process.stderr.write(`[authority] key ring refresh: ${String((err as Error)?.message ?? err)}\n`),
  });
  const notifier = postgresRevocationNotifier({
    url: config.store,
    db,
    onError: (err) => process.stderr.write(`[authority] revocation fan-out: ${String((err as Error)?.message ?? err)}\n`),
  });
  await Promise.race([notifier.ready(), new Promise((resolve) => setTimeout(resolve, LISTEN_READY_MS).unref())]);
  return {
    keyRing,
    notifier,
    shared: true,
    async close() {
      await notifier.close();
      await keyRing.close?.();
    },
  };
}
