/**
 * Where the guard finds the issuer's token-signing keys, by `kid`. Lookups are
 * synchronous map reads on the hot path; refreshing (network) is separate and
 * rate-limited.
 */
import { KeyObject } from 'node:crypto';
import { BatonError, jwkThumbprint, importPublicJwk, parseJsonStrict } from '@baton/core';

/** Result of a key lookup: the key, `'revoked'` (emergency rotation) or `undefined` (unknown). */
export type KeyLookup = KeyObject | 'revoked' | undefined;

/** The issuer's token-signing keys. */
export interface KeySource {
  /** The key for `kid`; `'revoked'` when the kid must no longer be accepted; `undefined` when unknown. */
  key(kid: string): KeyLookup;
  /**
   * Re-fetches the keys (optional). Called by the guard on an unknown `kid`, at most once
   * per `keyRefreshIntervalMs`; implementations rate-limit and share in-flight refreshes too.
   * Resolves `true` when the key set was reloaded. Never rejects.
   */
  refresh?(): Promise<boolean>;
}

/** Most keys a JWKS may carry: rotation keeps a handful, not hundreds. */
const MAX_JWKS_KEYS = 64;
const KID_RE = /^[A-Za-z0-9_-]{1,128}$/;

/** True when `kid` has the shape of a Baton key id (base64url, ≤ 128 chars). */
export function isWellFormedKid(kid: unknown): kid is string {
  return typeof kid === 'string' && KID_RE.test(kid);
}

/**
 * Parses an untrusted JWKS (object or JSON text) of Ed25519 keys into `kid → key`.
 * A key without `kid` is filed under its RFC 7638 thumbprint. ERR_KEY_INVALID on any
 * malformed member, unsupported `alg`/`use` or duplicate kid.
 */
export function parseJwks(jwks: unknown): Map<string, KeyObject> {
  const doc = typeof jwks === 'string' ? parseJsonStrict(jwks) : jwks;
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BatonError('ERR_KEY_INVALID', 'JWKS must be an object');
  const keys = (doc as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new BatonError('ERR_KEY_INVALID', 'JWKS keys must be an array');
  if (keys.length > MAX_JWKS_KEYS) throw new BatonError('ERR_KEY_INVALID', `JWKS has ${keys.length} keys (max ${MAX_JWKS_KEYS})`);
  const out = new Map<string, KeyObject>();
  for (const [i, jwk] of keys.entries()) {
    if (typeof jwk !== 'object' || jwk === null) throw new BatonError('ERR_KEY_INVALID', `JWKS key ${i} is not an object`);
    const j = jwk as Record<string, unknown>;
    if (j.alg !== undefined && j.alg !== 'EdDSA') throw new BatonError('ERR_KEY_INVALID', `JWKS key ${i} has alg ${String(j.alg)}`);
    if (j.use !== undefined && j.use !== 'sig') throw new BatonError('ERR_KEY_INVALID', `JWKS key ${i} has use ${String(j.use)}`);
    const key = importPublicJwk(jwk);
    const kid = j.kid === undefined ? jwkThumbprint(j) : j.kid;
    if (!isWellFormedKid(kid)) throw new BatonError('ERR_KEY_INVALID', `JWKS key ${i} has a malformed kid`);
    if (out.has(kid)) throw new BatonError('ERR_KEY_INVALID', `JWKS has duplicate kid ${kid}`);
    out.set(kid, key);
  }
  return out;
}

/**
 * A fixed key set: a JWKS (object or JSON text), or a map/record of `kid → KeyObject`.
 * For tests and for resource servers configured with the authority's keys out of band.
 *
 * @example
 * const keys = staticKeys({ keys: [issuerPublicJwkWithKid] });
 */
export function staticKeys(
  source: unknown | ReadonlyMap<string, KeyObject> | Readonly<Record<string, KeyObject>>,
  options?: { revokedKids?: Iterable<string> },
): KeySource {
  let map: Map<string, KeyObject>;
  if (source instanceof Map) {
    map = new Map();
    for (const [kid, key] of source as ReadonlyMap<unknown, unknown>) map.set(checkedEntry(kid, key), key as KeyObject);
  } else if (typeof source === 'object' && source !== null && !Array.isArray(source) && !('keys' in source)) {
    map = new Map();
    for (const [kid, key] of Object.entries(source)) map.set(checkedEntry(kid, key), key as KeyObject);
  } else {
    map = parseJwks(source);
  }
  const revoked = new Set(options?.revokedKids ?? []);
  return Object.freeze({
    key(kid: string): KeyLookup {
      if (revoked.has(kid)) return 'revoked';
      return map.get(kid);
    },
  });
}

function checkedEntry(kid: unknown, key: unknown): string {
  if (!isWellFormedKid(kid)) throw new TypeError('staticKeys: kid must be base64url, 1..128 chars');
  if (!(key instanceof KeyObject) || key.type !== 'public' || key.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`staticKeys: key ${kid} must be an Ed25519 public KeyObject`);
  }
  return kid;
}
