/**
 * Proof of possession: one DPoP-shaped (RFC 9449) proof for every authenticated call.
 *
 * A proof is a compact JWS signed by the caller's own key with header
 * `{ alg: 'EdDSA', typ: 'dpop+jwt', jwk }` and payload `{ jti, htm, htu, iat, ath?, rh? }`.
 * Verification is ordered cheapest-first and costs one Ed25519 verification plus a
 * few microseconds: structure, key binding (thumbprint), signature, target, freshness,
 * token/request binding, and only then the replay cache, so a rejected proof never
 * consumes its `jti`.
 */
import type { KeyObject } from 'node:crypto';
import { b64urlEncode } from './encoding.js';
import { BatonError, isBatonError, type ErrorCode } from './errors.js';
import { sha256B64url } from './hash.js';
import { decodeJws, signCompact, verifyJws, type DecodedJws, type HeaderCache } from './jws.js';
import { okpThumbprint, publicJwkX, publicKeyFromX, type KeyPair, type PublicJwk } from './keys.js';
import { randomId } from './random.js';
import type { ReplayCache } from './replay-cache.js';

/** `typ` header of proofs. */
export const PROOF_TYP = 'dpop+jwt';

/** A cache of imported public keys, keyed by the JWK `x`. */
export interface KeyCache {
  get(x: string): KeyObject | undefined;
  set(x: string, k: KeyObject): void;
}

/** Options of {@link verifyProof}. */
export interface VerifyProofOptions {
  /** Expected method (HTTP method or RPC method name), compared exactly. */
  htm: string;
  /** Expected target URI, compared exactly. */
  htu: string;
  /** Current time (ms). */
  nowMs: number;
  /** Thumbprint the token is bound to (`cnf.jkt`); a different key → `ERR_PROOF_KEY_MISMATCH`. */
  expectedJkt?: string;
  /** `sha256B64url(accessToken)`; when given, `ath` must equal it (`ERR_PROOF_TOKEN_MISMATCH`). */
  accessTokenHash?: string;
  /** `sha256B64url(body)`; when given, `rh` must equal it (`ERR_PROOF_REQUEST_MISMATCH`). */
  requestHash?: string;
  /** Oldest acceptable `iat`, in seconds before now. Default 60. */
  maxAgeSeconds?: number;
  /** Tolerated future `iat` (clock skew), in seconds. Default 5. */
  leewaySeconds?: number;
  /** Where used `jkt:jti` pairs are remembered. */
  replayCache: ReplayCache;
  /** Imported keys by `x`; defaults to a small bounded cache inside core. */
  keyCache?: KeyCache;
}

/** Defaults of {@link VerifyProofOptions}. */
export const VERIFY_PROOF_DEFAULTS = Object.freeze({ maxAgeSeconds: 60, leewaySeconds: 5 });

/** A proof that passed every check (and whose `jti` is now used). */
export interface VerifiedProof {
  /** RFC 7638 thumbprint of the proof key. */
  jkt: string;
  jwk: PublicJwk;
  publicKey: KeyObject;
  claims: { jti: string; htm: string; htu: string; iat: number; ath?: string; rh?: string };
}

/** Options of {@link createProof}. */
export interface CreateProofOptions {
  keyPair: KeyPair;
  htm: string;
  htu: string;
  /** Access token the proof accompanies; its hash becomes `ath`. */
  accessToken?: string;
  /** `sha256B64url` of the request body, for calls authenticated by the key alone. */
  requestHash?: string;
  /** Issue time (ms); default `Date.now()`. */
  nowMs?: number;
}

const MAX_PROOF_BYTES = 8 * 1024;
const HEADER_MEMBERS = new Set(['alg', 'typ', 'jwk']);
const JTI_RE = /^[\x21-\x7e]{16,128}$/;
const HASH_RE = /^[A-Za-z0-9_-]{43}$/;

/** A small map that forgets its oldest insertion when full. */
class BoundedMap<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly max: number) {}
  get(k: string): V | undefined {
    return this.#map.get(k);
  }
  set(k: string, v: V): void {
    if (this.#map.size >= this.max && !this.#map.has(k)) this.#map.delete(this.#map.keys().next().value!);
    this.#map.set(k, v);
  }
}

// Deterministic memos of pure functions of their keys, so sharing them across callers
// is safe; bounded, so churn by an attacker costs only misses.
/** Fallback for `keyCache`: imported keys by `x`. */
const defaultKeyCache: KeyCache = new BoundedMap<KeyObject>(1024);
/** Checked proof headers by segment: every proof from one key has the same header. */
const proofHeaders: HeaderCache = new BoundedMap<Record<string, unknown>>(1024);
/** `x` and thumbprint of headers that passed the proof header checks. */
const headerKeys = new WeakMap<Record<string, unknown>, { readonly x: string; readonly jkt: string }>();

// The protected header depends only on the key pair: encode it once per pair.
const encodedHeaders = new WeakMap<KeyPair, string>();

function fail(code: ErrorCode, detail: string, cause?: unknown): never {
  throw new BatonError(code, detail, cause === undefined ? undefined : { cause });
}

function assertString(v: unknown, name: string): asserts v is string {
  if (typeof v !== 'string' || v.length === 0) throw new TypeError(`${name} must be a non-empty string`);
}

/**
 * Creates a proof for one call.
 *
 * @example
 * const proof = createProof({ keyPair, htm: 'POST', htu: 'https://api.example/pay', accessToken });
 */
export function createProof(opts: CreateProofOptions): string {
  const { keyPair, htm, htu, accessToken, requestHash } = opts;
  if (typeof keyPair?.publicJwk?.x !== 'string') throw new TypeError('keyPair must be a KeyPair');
  assertString(htm, 'htm');
  assertString(htu, 'htu');
  const nowMs = opts.nowMs ?? Date.now();
  if (!Number.isFinite(nowMs)) throw new TypeError('nowMs must be a finite number');
  let header = encodedHeaders.get(keyPair);
  if (header === undefined) {
    const { x } = keyPair.publicJwk;
    header = b64urlEncode(JSON.stringify({ alg: 'EdDSA', typ: PROOF_TYP, jwk: { kty: 'OKP', crv: 'Ed25519', x } }));
    encodedHeaders.set(keyPair, header);
  }
  const payload: Record<string, unknown> = { jti: randomId(), htm, htu, iat: Math.floor(nowMs / 1000) };
  if (accessToken !== undefined) {
    assertString(accessToken, 'accessToken');
    payload.ath = sha256B64url(accessToken);
  }
  if (requestHash !== undefined) {
    assertString(requestHash, 'requestHash');
    payload.rh = requestHash;
  }
  return signCompact(header, b64urlEncode(JSON.stringify(payload)), keyPair.privateKey);
}

function decodeProof(proof: string): DecodedJws {
  try {
    return decodeJws(proof, { maxBytes: MAX_PROOF_BYTES, headerCache: proofHeaders });
  } catch (err) {
    if (isBatonError(err)) fail('ERR_PROOF_INVALID', `proof: ${err.detail}`, err);
    throw err;
  }
}

function checkProofHeader(header: Record<string, unknown>): { x: string; jkt: string } {
  for (const k of Object.keys(header)) if (!HEADER_MEMBERS.has(k)) fail('ERR_PROOF_INVALID', `unexpected header member ${k}`);
  if (header.typ !== PROOF_TYP) fail('ERR_PROOF_INVALID', 'typ must be dpop+jwt');
  let x: string;
  try {
    x = publicJwkX(header.jwk);
  } catch (err) {
    if (isBatonError(err)) fail('ERR_PROOF_INVALID', `jwk: ${err.detail}`, err);
    throw err;
  }
  return { x, jkt: okpThumbprint(x) };
}

function optionalHash(v: unknown, name: string): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !HASH_RE.test(v)) fail('ERR_PROOF_INVALID', `${name} must be a SHA-256 base64url value`);
  return v;
}

/**
 * Verifies a proof and consumes its `jti`. Checks, in order (first failure wins):
 * missing → `ERR_PROOF_MISSING`; structure, `typ`, `alg`, `jwk` (public Ed25519 only)
 * → `ERR_PROOF_INVALID`; thumbprint ≠ `expectedJkt` → `ERR_PROOF_KEY_MISMATCH`;
 * signature → `ERR_PROOF_SIGNATURE_INVALID`; `htm`/`htu` → `ERR_PROOF_METHOD_MISMATCH`;
 * `iat` outside `[now − maxAge, now + leeway]` → `ERR_PROOF_STALE`; `ath` →
 * `ERR_PROOF_TOKEN_MISMATCH`; `rh` → `ERR_PROOF_REQUEST_MISMATCH`; `jkt:jti` already
 * used → `ERR_PROOF_REPLAYED` (cache full of live entries → `ERR_RATE_LIMITED`).
 *
 * @example
 * const proof = verifyProof(req.headers.dpop, {
 *   htm: 'POST', htu, nowMs: clock.now(), expectedJkt: claims.cnf.jkt,
 *   accessTokenHash: sha256B64url(token), replayCache,
 * });
 */
export function verifyProof(proof: unknown, opts: VerifyProofOptions): VerifiedProof {
  assertString(opts?.htm, 'htm');
  assertString(opts.htu, 'htu');
  const { nowMs, replayCache } = opts;
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs)) throw new TypeError('nowMs must be a finite number');
  if (typeof replayCache?.checkAndAdd !== 'function') throw new TypeError('replayCache is required');
  const maxAge = opts.maxAgeSeconds ?? VERIFY_PROOF_DEFAULTS.maxAgeSeconds;
  const leeway = opts.leewaySeconds ?? VERIFY_PROOF_DEFAULTS.leewaySeconds;
  if (!(maxAge >= 0) || !(leeway >= 0) || !Number.isFinite(maxAge) || !Number.isFinite(leeway)) {
    throw new TypeError('maxAgeSeconds and leewaySeconds must be non-negative numbers');
  }

  // 1. Presence and structure.
  if (proof === undefined || proof === null || proof === '') fail('ERR_PROOF_MISSING', 'no proof');
  if (typeof proof !== 'string') fail('ERR_PROOF_INVALID', 'proof is not a string');
  const jws = decodeProof(proof);
  const { header, payload } = jws;
  let bound = headerKeys.get(header);
  if (bound === undefined) {
    bound = checkProofHeader(header);
    headerKeys.set(header, bound);
  }
  const { x, jkt } = bound;
  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || !JTI_RE.test(jti)) fail('ERR_PROOF_INVALID', 'jti must be 16..128 printable chars');
  if (typeof htm !== 'string' || htm.length === 0 || htm.length > 256) fail('ERR_PROOF_INVALID', 'htm must be a string');
  if (typeof htu !== 'string' || htu.length === 0 || htu.length > 4096) fail('ERR_PROOF_INVALID', 'htu must be a string');
  if (!Number.isSafeInteger(iat)) fail('ERR_PROOF_INVALID', 'iat must be an integer');
  const ath = optionalHash(payload.ath, 'ath');
  const rh = optionalHash(payload.rh, 'rh');

  // 2. Key binding, before any import so a foreign key costs nothing more.
  if (opts.expectedJkt !== undefined && jkt !== opts.expectedJkt) fail('ERR_PROOF_KEY_MISMATCH', 'proof key is not the bound key');

  // 3. Signature.
  const keyCache = opts.keyCache ?? defaultKeyCache;
  let publicKey = keyCache.get(x);
  if (publicKey === undefined) {
    try {
      publicKey = publicKeyFromX(x);
    } catch (err) {
      if (isBatonError(err)) fail('ERR_PROOF_INVALID', `jwk: ${err.detail}`, err);
      throw err;
    }
    keyCache.set(x, publicKey);
  }
  if (!verifyJws(jws, publicKey)) fail('ERR_PROOF_SIGNATURE_INVALID', 'bad proof signature');

  // 4. What the proof is for, and when.
  if (htm !== opts.htm || htu !== opts.htu) fail('ERR_PROOF_METHOD_MISMATCH', `proof for ${htm} ${htu}`);
  const iatN = iat as number;
  const now = nowMs / 1000;
  if (iatN < now - maxAge) fail('ERR_PROOF_STALE', `iat ${iatN} older than ${maxAge}s`);
  if (iatN > now + leeway) fail('ERR_PROOF_STALE', `iat ${iatN} in the future`);
  if (opts.accessTokenHash !== undefined && ath !== opts.accessTokenHash) fail('ERR_PROOF_TOKEN_MISMATCH', ath ? 'ath mismatch' : 'ath missing');
  if (opts.requestHash !== undefined && rh !== opts.requestHash) fail('ERR_PROOF_REQUEST_MISMATCH', rh ? 'rh mismatch' : 'rh missing');

  // 5. Single use, only now that everything else passed. The entry lives as long as
  // the proof could still be accepted (plus one second for the fractional now).
  switch (replayCache.checkAndAdd(`${jkt}:${jti}`, (iatN + maxAge + 1) * 1000, nowMs)) {
    case 'replayed':
      fail('ERR_PROOF_REPLAYED', 'proof jti already used');
    case 'full':
      fail('ERR_RATE_LIMITED', 'replay cache full');
    default:
      break;
  }

  const claims: VerifiedProof['claims'] = { jti, htm, htu, iat: iatN };
  if (ath !== undefined) claims.ath = ath;
  if (rh !== undefined) claims.rh = rh;
  return { jkt, jwk: { kty: 'OKP', crv: 'Ed25519', x }, publicKey, claims };
}
