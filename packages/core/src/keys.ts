/**
 * Ed25519 keys: generation, raw/JWK import and export, RFC 7638 thumbprints, and raw
 * signing/verification over node:crypto.
 *
 * Keys are imported through the JWK path of `createPublicKey`, which is an order of
 * magnitude faster than DER on OpenSSL 3; callers that verify repeatedly keep the
 * returned KeyObject.
 */
import crypto, { type KeyObject } from 'node:crypto';
import { isValidEd25519PublicKey } from './ed25519-point.js';
import { b64urlEncode, isCanonicalB64url } from './encoding.js';
import { BatonError } from './errors.js';
import { sha256B64url } from './hash.js';

/** A public Ed25519 key as a JWK (RFC 8037). */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid?: string;
  alg?: 'EdDSA';
  use?: 'sig';
}

/** An Ed25519 key pair with its derived public forms, computed once. */
export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** `{ kty, crv, x }` (frozen). */
  publicJwk: PublicJwk;
  /** The 32-byte public key. */
  rawPublicKey: Buffer;
  /** RFC 7638 SHA-256 thumbprint of `publicJwk` (the `cnf.jkt` a token is bound to). */
  thumbprint: string;
}

/** A private Ed25519 JWK, as stored in key files. */
export interface PrivateJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d: string;
}

/** Members a public Ed25519 JWK may carry; anything else (notably `d`) is refused. */
const PUBLIC_JWK_MEMBERS = new Set(['kty', 'crv', 'x', 'kid', 'alg', 'use', 'key_ops']);

function isEd25519Key(key: unknown, type: 'public' | 'private' | 'any'): key is KeyObject {
  return (
    key instanceof crypto.KeyObject &&
    key.asymmetricKeyType === 'ed25519' &&
    (type === 'any' || key.type === type)
  );
}

function jwkError(detail: string): BatonError {
  return new BatonError('ERR_KEY_INVALID', detail);
}

/** RFC 7638 thumbprint of an Ed25519 key given its (already validated) `x`. */
export function okpThumbprint(x: string): string {
  // Members in lexicographic order; `x` is base64url, so it needs no JSON escaping.
  return sha256B64url(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`);
}

function keyPairOf(privateKey: KeyObject, publicKey: KeyObject): KeyPair {
  const x = publicKey.export({ format: 'jwk' }).x!;
  const publicJwk: PublicJwk = Object.freeze({ kty: 'OKP', crv: 'Ed25519', x });
  return Object.freeze({
    privateKey,
    publicKey,
    publicJwk,
    rawPublicKey: Buffer.from(x, 'base64url'),
    thumbprint: okpThumbprint(x),
  });
}

/**
 * Generates an Ed25519 key pair with the OS CSPRNG.
 *
 * @example
 * const kp = generateKeyPair();
 * kp.thumbprint; // the value a token's cnf.jkt carries
 */
export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
  return keyPairOf(privateKey, publicKey);
}

/**
 * Imports the public key with base64url `x` after checking it is a valid, not
 * small-order point. `x` must already be canonical base64url of 32 bytes.
 */
export function publicKeyFromX(x: string): KeyObject {
  if (!isValidEd25519PublicKey(Buffer.from(x, 'base64url'))) throw jwkError('not a valid Ed25519 point');
  return crypto.createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * Imports a raw 32-byte Ed25519 public key. It must be the canonical encoding of a
 * curve point of large order; otherwise `ERR_KEY_INVALID`.
 */
export function publicKeyFromRaw(raw: Uint8Array): KeyObject {
  if (!(raw instanceof Uint8Array)) throw new TypeError('publicKeyFromRaw expects a Uint8Array');
  if (raw.byteLength !== 32) throw jwkError('Ed25519 public key must be 32 bytes');
  return publicKeyFromX(b64urlEncode(raw));
}

/** The 32 raw bytes of an Ed25519 key (public, or the public half of a private key). */
export function rawPublicKeyOf(key: KeyObject): Buffer {
  return Buffer.from(publicJwkOf(key).x, 'base64url');
}

/** The public JWK `{ kty, crv, x }` of an Ed25519 key (public or private). */
export function publicJwkOf(key: KeyObject): PublicJwk {
  if (!isEd25519Key(key, 'any')) throw new TypeError('expected an Ed25519 KeyObject');
  const pub = key.type === 'private' ? crypto.createPublicKey(key) : key;
  return { kty: 'OKP', crv: 'Ed25519', x: pub.export({ format: 'jwk' }).x! };
}

/**
 * Checks the shape of an untrusted public Ed25519 JWK and returns its `x`. Internal:
 * shared by {@link importPublicJwk} and proof verification (which caches by `x`).
 */
export function publicJwkX(jwk: unknown): string {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw jwkError('JWK must be an object');
  const j = jwk as Record<string, unknown>;
  if (Object.hasOwn(j, 'd')) throw jwkError('private key material in a public JWK');
  for (const k of Object.keys(j)) if (!PUBLIC_JWK_MEMBERS.has(k)) throw jwkError(`unexpected JWK member ${k}`);
  if (j.kty !== 'OKP') throw jwkError('kty must be OKP');
  if (j.crv !== 'Ed25519') throw jwkError('crv must be Ed25519');
  const x = j.x;
  if (typeof x !== 'string' || x.length !== 43 || !isCanonicalB64url(x)) throw jwkError('x must be 32 bytes of base64url');
  if (j.alg !== undefined && j.alg !== 'EdDSA') throw jwkError('alg must be EdDSA');
  if (j.use !== undefined && j.use !== 'sig') throw jwkError('use must be sig');
  if (j.kid !== undefined && (typeof j.kid !== 'string' || j.kid.length === 0 || j.kid.length > 256)) throw jwkError('bad kid');
  if (j.key_ops !== undefined && (!Array.isArray(j.key_ops) || !j.key_ops.every((o) => o === 'verify'))) {
    throw jwkError('key_ops must only allow verify');
  }
  return x;
}

/**
 * Imports an untrusted public JWK. Strict: `kty` OKP, `crv` Ed25519, `x` exactly 43
 * canonical base64url characters naming a valid point, no `d` and no unknown members;
 * `alg`/`use`/`kid`/`key_ops` checked when present. Otherwise `ERR_KEY_INVALID`.
 */
export function importPublicJwk(jwk: unknown): KeyObject {
  return publicKeyFromX(publicJwkX(jwk));
}

/** Exports a private key (or a key pair's) as a JWK `{ kty, crv, x, d }` for a key file. */
export function exportPrivateJwk(kp: KeyPair | KeyObject): PrivateJwk {
  const key = kp instanceof crypto.KeyObject ? kp : kp?.privateKey;
  if (!isEd25519Key(key, 'private')) throw new TypeError('expected an Ed25519 private key');
  const j = key.export({ format: 'jwk' });
  return { kty: 'OKP', crv: 'Ed25519', x: j.x!, d: j.d! };
}

/**
 * Imports a private JWK from a key file into a {@link KeyPair}. `x` must match the key
 * derived from `d`; otherwise `ERR_KEY_INVALID`.
 */
export function importPrivateJwk(jwk: unknown): KeyPair {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw jwkError('JWK must be an object');
  const j = jwk as Record<string, unknown>;
  if (j.kty !== 'OKP' || j.crv !== 'Ed25519') throw jwkError('not an Ed25519 JWK');
  const { d, x } = j;
  if (typeof d !== 'string' || d.length !== 43 || !isCanonicalB64url(d)) throw jwkError('d must be 32 bytes of base64url');
  if (typeof x !== 'string' || x.length !== 43 || !isCanonicalB64url(x)) throw jwkError('x must be 32 bytes of base64url');
  let privateKey: KeyObject;
  try {
    privateKey = crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d, x }, format: 'jwk' });
  } catch (cause) {
    throw new BatonError('ERR_KEY_INVALID', 'private JWK rejected', { cause });
  }
  const publicKey = crypto.createPublicKey(privateKey);
  const kp = keyPairOf(privateKey, publicKey);
  if (kp.publicJwk.x !== x) throw jwkError('x does not match d');
  return kp;
}

/** Required members per `kty` (RFC 7638 §3.2; OKP from RFC 8037 §2). */
const THUMBPRINT_MEMBERS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  OKP: ['crv', 'kty', 'x'],
  EC: ['crv', 'kty', 'x', 'y'],
  RSA: ['e', 'kty', 'n'],
  oct: ['k', 'kty'],
});

/**
 * RFC 7638 JWK thumbprint: SHA-256 over the required members in lexicographic order,
 * without whitespace, as base64url. Other members never affect it.
 *
 * @example jwkThumbprint(kp.publicJwk) === kp.thumbprint
 */
export function jwkThumbprint(jwk: object): string {
  if (typeof jwk !== 'object' || jwk === null) throw jwkError('JWK must be an object');
  const j = jwk as Record<string, unknown>;
  const members = typeof j.kty === 'string' && Object.hasOwn(THUMBPRINT_MEMBERS, j.kty) ? THUMBPRINT_MEMBERS[j.kty]! : undefined;
  if (!members) throw jwkError('unsupported kty');
  const parts: string[] = [];
  for (const m of members) {
    const v = j[m];
    if (typeof v !== 'string' || v.length === 0) throw jwkError(`JWK member ${m} missing`);
    parts.push(`"${m}":${JSON.stringify(v)}`);
  }
  return sha256B64url(`{${parts.join(',')}}`);
}

/** Signs `data` with an Ed25519 private key (64-byte signature; deterministic). */
export function signBytes(data: Uint8Array, privateKey: KeyObject): Buffer {
  if (!isEd25519Key(privateKey, 'private')) throw new TypeError('signBytes expects an Ed25519 private key');
  return crypto.sign(null, data, privateKey);
}

/**
 * Verifies an Ed25519 signature. Never throws on garbage (wrong length, wrong key type,
 * malformed input): returns false.
 */
export function verifyBytes(data: Uint8Array, sig: Uint8Array, publicKey: KeyObject): boolean {
  try {
    if (!(sig instanceof Uint8Array) || sig.byteLength !== 64) return false;
    if (!isEd25519Key(publicKey, 'any')) return false;
    return crypto.verify(null, data, publicKey, sig);
  } catch {
    return false;
  }
}
