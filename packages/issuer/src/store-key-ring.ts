import type { KeyObject } from 'node:crypto';
import {
  exportPrivateJwk,
  generateKeyPair,
  importPrivateJwk,
  importPublicJwk,
  jwkThumbprint,
  nowSeconds,
  signJws,
  systemClock,
  type KeyPair,
  type PublicJwk,
} from '@baton/core';
import type { SqlDatabase, SqlExecutor } from '@baton/store';
import type { KeyRing, KeyRingOptions, KeyStatus, RotationResult } from './key-ring.js';
import { keyRingReads, redactKeyRing, serialQueue } from './key-ring-parts.js';
import { migrateIssuer } from './schema.js';
import { openSealedJwk, sealPrivateJwk } from './sealed-key.js';

/** Options of {@link openStoreKeyRing}. */
export interface StoreKeyRingOptions extends KeyRingOptions {
  /** 32-byte key-encryption key (see `loadOrCreateKekFile`); the same on every replica. */
  readonly kek: Uint8Array;
  /** How often to look for changes other replicas made, ms. Default 1000; 0 disables the timer. */
  readonly refreshIntervalMs?: number;
  /** Diagnostics for failed background refreshes. Must not throw. */
  readonly onError?: (err: unknown) => void;
}

/** A key ring shared by replicas through the store. */
export interface StoreKeyRing extends KeyRing {
  /** Reloads when another replica changed the ring (cheap when nothing changed). */
  refresh(): Promise<void>;
  /** Stops the refresh timer. */
  close(): Promise<void>;
}

/** The defaults of {@link StoreKeyRingOptions}. */
export const STORE_KEY_RING_DEFAULTS = Object.freeze({
  refreshIntervalMs: 1000,
  leewaySeconds: 30,
});

/** coverExp grows in steps of this much, so token issuance rarely writes the row. */
const COVER_SLACK_SECONDS = 600;
const KID_RE = /^[A-Za-z0-9_-]{43}$/;
const STATUSES: readonly KeyStatus[] = ['active', 'retired', 'revoked'];

interface Row {
  kid: string;
  status: string;
  public_jwk: string;
  sealed_private: string | null;
  cover_exp: number;
}

interface Rec {
  readonly kid: string;
  readonly status: KeyStatus;
  readonly publicJwk: PublicJwk;
  readonly publicKey: KeyObject;
  maxExp: number;
  coverExp: number;
}

async function bumpVersion(tx: SqlExecutor): Promise<number> {
  // The UPDATE row-locks the counter until commit (PostgreSQL): ring changes serialize.
  const row = await tx.get<{ value: number }>("UPDATE issuer_counters SET value = value + 1 WHERE name = 'keyring_version' RETURNING value");
  if (!row) throw new Error('issuer_counters has no keyring_version');
  return Number(row.value);
}

async function readVersion(db: SqlExecutor): Promise<number> {
  const row = await db.get<{ value: number }>("SELECT value FROM issuer_counters WHERE name = 'keyring_version'");
  return Number(row?.value ?? 0);
}

async function insertActive(tx: SqlExecutor, kek: Uint8Array, now: number): Promise<KeyPair> {
  const kp = generateKeyPair();
  const kid = kp.thumbprint;
  const jwk = { ...kp.publicJwk, kid, alg: 'EdDSA', use: 'sig' };
  await tx.run('INSERT INTO issuer_signing_keys (kid, status, public_jwk, sealed_private, cover_exp, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
    kid,
    'active',
    JSON.stringify(jwk),
    sealPrivateJwk(kek, kid, exportPrivateJwk(kp)),
    0,
    now,
  ]);
  return kp;
}

function recordOf(r: Row): Rec {
  const status = r.status as KeyStatus;
  if (!KID_RE.test(r.kid) || !STATUSES.includes(status)) throw new Error('unreadable signing key row');
  const jwk = JSON.parse(r.public_jwk) as PublicJwk;
  // The kid must be the key's own thumbprint, whatever the row says.
  if (jwkThumbprint(jwk) !== r.kid) throw new Error('signing key row does not match its kid');
  const publicKey = importPublicJwk({ kty: jwk.kty, crv: jwk.crv, x: jwk.x });
  const publicJwk = Object.freeze({ kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: r.kid, alg: 'EdDSA', use: 'sig' }) as PublicJwk;
  const cover = Number(r.cover_exp);
  return { kid: r.kid, status, publicJwk, publicKey, maxExp: cover, coverExp: cover };
}

/**
 * Opens the issuer's signing keys kept in the shared store, so several authority
 * replicas sign with the same active key and publish the same JWKS. Public keys are
 * stored in clear; the active private key only sealed under `kek` (AES-256-GCM, kid as
 * associated data) and dropped from the store when it retires, so the database alone
 * never yields a signing key. Each replica reloads when another changed the ring (a
 * version counter polled every `refreshIntervalMs`, and at once on `refresh()`).
 * Rotations, revocations and pruning are serialized across replicas by a row lock.
 *
 * @example
 * const keyRing = await openStoreKeyRing(db, { kek: await loadOrCreateKekFile('keys/keyring.kek') });
 */
export async function openStoreKeyRing(db: SqlDatabase, options: StoreKeyRingOptions): Promise<StoreKeyRing> {
  if (!db || typeof db.transaction !== 'function') throw new TypeError('openStoreKeyRing: db must be a SqlDatabase');
  const kek = options?.kek;
  if (!(kek instanceof Uint8Array) || kek.length !== 32) throw new TypeError('openStoreKeyRing: kek must be 32 bytes');
  const clock = options.clock ?? systemClock;
  const leeway = options.leewaySeconds ?? STORE_KEY_RING_DEFAULTS.leewaySeconds;
  const refreshIntervalMs = options.refreshIntervalMs ?? STORE_KEY_RING_DEFAULTS.refreshIntervalMs;
  if (!Number.isSafeInteger(refreshIntervalMs) || refreshIntervalMs < 0) throw new TypeError('openStoreKeyRing: refreshIntervalMs must be a non-negative integer');

  await migrateIssuer(db);
  const hasActive = async (x: SqlExecutor) => (await x.get("SELECT kid FROM issuer_signing_keys WHERE status = 'active'")) !== undefined;
  if (!(await hasActive(db))) {
    await db.transaction(async (tx) => {
      await bumpVersion(tx);
      // Re-checked under the lock: another replica may have created it first.
      if (!(await hasActive(tx))) await insertActive(tx, kek, nowSeconds(clock));
    });
  }

  let byKid = new Map<string, Rec>();
  let active!: { rec: Rec; privateKey: KeyObject };
  let version = -1;

  async function load(): Promise<void> {
    const v = await readVersion(db);
    const rows = await db.all<Row>('SELECT kid, status, public_jwk, sealed_private, cover_exp FROM issuer_signing_keys');
    const next = new Map<string, Rec>();
    let nextActive: typeof active | undefined;
    for (const row of rows) {
      const rec = recordOf(row);
      // Keep what this process saw issued (the stored bound may lag by the slack).
      const old = byKid.get(rec.kid);
      if (old) rec.maxExp = Math.max(rec.maxExp, old.maxExp);
      next.set(rec.kid, rec);
      if (rec.status !== 'active') continue;
      if (row.sealed_private === null) throw new Error('active signing key has no sealed private key');
      const privateKey = active?.rec.kid === rec.kid ? active.privateKey : importPrivateJwk(openSealedJwk(kek, rec.kid, row.sealed_private)).privateKey;
      nextActive = { rec, privateKey };
    }
    if (!nextActive) throw new Error('the store holds no active signing key');
    byKid = next;
    active = nextActive;
    version = v;
  }
  await load();

  // Serializes this process's own changes and reloads.
  const queue = serialQueue();
  const serial = queue.run;
  const refresh = (): Promise<void> =>
    serial(async () => {
      if ((await readVersion(db)) !== version) await load();
    });

  const timer =
    refreshIntervalMs > 0
      ? setInterval(() => {
          refresh().catch((err: unknown) => {
            try {
              options.onError?.(err);
            } catch {
              // diagnostics never break the ring
            }
          });
        }, refreshIntervalMs)
      : undefined;
  timer?.unref();

  const ring: StoreKeyRing = {
    ...keyRingReads(() => byKid),
    get activeKid() {
      return active.rec.kid;
    },
    sign(header, payload) {
      const a = active;
      return { token: signJws({ ...header, kid: a.rec.kid }, payload, a.privateKey), kid: a.rec.kid };
    },
    async noteIssued(kid, exp) {
      const r = byKid.get(kid);
      if (!r || !Number.isSafeInteger(exp)) return;
      if (exp > r.maxExp) r.maxExp = exp;
      if (exp <= r.coverExp) return;
      const cover = exp + COVER_SLACK_SECONDS;
      r.coverExp = cover;
      // Only ever raised, whichever replica writes last.
      await db.run('UPDATE issuer_signing_keys SET cover_exp = CASE WHEN cover_exp < ? THEN ? ELSE cover_exp END WHERE kid = ?', [cover, cover, kid]);
    },
    rotate({ emergency = false } = {}): Promise<RotationResult> {
      return serial(async () => {
        const out = await db.transaction(async (tx) => {
          await bumpVersion(tx);
          // The store's active key, which another replica may have changed since our last load.
          const old = await tx.get<{ kid: string; cover_exp: number }>("SELECT kid, cover_exp FROM issuer_signing_keys WHERE status = 'active'");
          if (!old) throw new Error('the store holds no active signing key');
          await tx.run('UPDATE issuer_signing_keys SET status = ?, sealed_private = NULL WHERE kid = ?', [emergency ? 'revoked' : 'retired', old.kid]);
          const kp = await insertActive(tx, kek, nowSeconds(clock));
          return { newKid: kp.thumbprint, retiredKid: old.kid, coverExp: Number(old.cover_exp) };
        });
        const seen = byKid.get(out.retiredKid)?.maxExp ?? 0;
        await load();
        return { newKid: out.newKid, retiredKid: out.retiredKid, emergency, retiredMaxExp: Math.max(seen, out.coverExp) };
      });
    },
    revoke(kid) {
      return serial(async () => {
        const done = await db.transaction(async (tx) => {
          await bumpVersion(tx);
          const row = await tx.get<{ status: string }>('SELECT status FROM issuer_signing_keys WHERE kid = ?', [kid]);
          if (!row || row.status === 'active') return false;
          if (row.status === 'retired') await tx.run("UPDATE issuer_signing_keys SET status = 'revoked', sealed_private = NULL WHERE kid = ?", [kid]);
          return true;
        });
        await load();
        return done;
      });
    },
    prune() {
      return serial(async () => {
        const now = nowSeconds(clock);
        const gone = await db.transaction(async (tx) => {
          const rows = await tx.all<{ kid: string }>("SELECT kid FROM issuer_signing_keys WHERE status <> 'active' AND cover_exp + ? < ?", [leeway, now]);
          if (rows.length === 0) return [];
          await bumpVersion(tx);
          const kids: string[] = [];
          for (const { kid } of rows) {
            const r = await tx.run("DELETE FROM issuer_signing_keys WHERE kid = ? AND status <> 'active' AND cover_exp + ? < ?", [kid, leeway, now]);
            if (r.changes === 1) kids.push(kid);
          }
          return kids;
        });
        if (gone.length > 0) await load();
        return gone;
      });
    },
    refresh,
    async close() {
      if (timer) clearInterval(timer);
      await queue.idle();
    },
  };
  return redactKeyRing(ring);
}
