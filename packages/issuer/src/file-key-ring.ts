import { openKeyDirectory } from '@baton/store';
import { generateKeyPair, importPublicJwk, jwkThumbprint, type PublicJwk } from '@baton/core';
import { createKeyRing, recordOf, type KeyRecord, type KeyRing, type KeyRingOptions, type KeyRingStore, type KeyStatus } from './key-ring.js';

const STATE_FILE = 'keyring.json';
const KID_RE = /^[A-Za-z0-9_-]{43}$/;
/** coverExp grows in steps of this much, so token issuance rarely writes the state file. */
const COVER_SLACK_SECONDS = 600;

interface StateFile {
  version: 1;
  active: string;
  keys: { kid: string; status: KeyStatus; jwk: PublicJwk; coverExp: number }[];
}

function parseState(text: string): StateFile {
  const s = JSON.parse(text) as StateFile;
  if (s?.version !== 1 || typeof s.active !== 'string' || !Array.isArray(s.keys)) throw new Error('unreadable key ring state');
  for (const k of s.keys) {
    if (!KID_RE.test(k.kid) || !['active', 'retired', 'revoked'].includes(k.status) || !Number.isSafeInteger(k.coverExp)) {
      throw new Error('unreadable key ring state');
    }
  }
  return s;
}

/**
 * Opens (creating on first use) a key ring kept in `dir`: the active Ed25519 private key
 * as a JWK file `<kid>.jwk` (mode 0600) and `keyring.json` (0600) listing retired and
 * revoked public keys with how long their tokens live. The directory is created 0700; a
 * directory or key file readable by group or others is refused. Private keys of retired
 * keys are deleted at rotation (only public keys are needed to verify).
 *
 * One process owns a key directory; replicas that share keys must share one ring
 * service or copy the directory while stopped.
 *
 * @example
 * const keyRing = await openFileKeyRing('/var/lib/baton/keys');
 * const { newKid } = await keyRing.rotate();
 */
export async function openFileKeyRing(dir: string, options: KeyRingOptions = {}): Promise<KeyRing> {
  if (typeof dir !== 'string' || dir === '') throw new TypeError('openFileKeyRing needs a directory');
  const keys = await openKeyDirectory(dir, STATE_FILE);

  const store: KeyRingStore = {
    coverSlackSeconds: COVER_SLACK_SECONDS,
    saveActive: (kp, kid) => keys.saveKey(kid, kp),
    async saveState(records) {
      const active = records.find((r) => r.status === 'active');
      const state: StateFile = {
        version: 1,
        active: active!.kid,
        keys: records.map((r) => ({ kid: r.kid, status: r.status, jwk: r.publicJwk, coverExp: r.coverExp })),
      };
      await keys.writeState(state);
    },
    dropPrivate: (kid) => keys.dropKey(kid),
  };

  const text = await keys.readState();
  const records: KeyRecord[] = [];
  if (text === undefined) {
    const kp = generateKeyPair();
    const rec = recordOf(kp, 'active');
    await store.saveActive(kp, rec.kid);
    records.push(rec);
    await store.saveState(records);
  } else {
    const state = parseState(text);
    for (const k of state.keys) {
      if (k.status === 'active') {
        if (k.kid !== state.active) throw new Error('unreadable key ring state');
        records.push({ ...recordOf(await keys.loadKey(k.kid), 'active'), maxExp: k.coverExp, coverExp: k.coverExp });
      } else {
        const publicKey = importPublicJwk({ kty: k.jwk.kty, crv: k.jwk.crv, x: k.jwk.x });
        if (jwkThumbprint(k.jwk) !== k.kid) throw new Error('key ring state does not match its kids');
        const publicJwk = Object.freeze({ kty: 'OKP', crv: 'Ed25519', x: k.jwk.x, kid: k.kid, alg: 'EdDSA', use: 'sig' }) as PublicJwk;
        // Only the persisted bound is known after a restart; it is never below the true max exp.
        records.push({ kid: k.kid, status: k.status, publicJwk, publicKey, maxExp: k.coverExp, coverExp: k.coverExp });
      }
    }
    // Leftover private keys of keys no longer active (a crash mid-rotation) are deleted.
    await keys.dropKeysOtherThan(state.active);
  }
  return createKeyRing(records, store, options);
}
