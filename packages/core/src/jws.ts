/**
 * Compact JWS with EdDSA (Ed25519) only, over node:crypto.
 *
 * Decoding is strict and ordered cheapest-first: size, three segments, canonical
 * base64url, a header that is a JSON object without duplicate keys, `alg` exactly
 * `EdDSA`, no `crit`/`b64` extensions, a payload that is a JSON object, and a
 * 64-byte signature. Signature verification is a separate step (`verifyJws`) so the
 * caller can pick the key from the header first.
 */
import { isUtf8 } from 'node:buffer';
import type { KeyObject } from 'node:crypto';
import { b64urlEncode, isCanonicalB64url } from './encoding.js';
import { BatonError, type ErrorCode } from './errors.js';
import { parseJsonStrict } from './json.js';
import { signBytes, verifyBytes } from './keys.js';

/** A structurally valid compact JWS whose signature has not been checked yet. */
export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `BASE64URL(header) "." BASE64URL(payload)`, the bytes the signature covers (ASCII). */
  signingInput: string;
  /** The 64-byte Ed25519 signature. */
  signature: Buffer;
  /** The input, unchanged. */
  compact: string;
}

/** Like {@link DecodedJws} but with the payload left as its base64url segment. */
export interface DecodedCompactJws {
  header: Record<string, unknown>;
  payloadB64: string;
  signingInput: string;
  signature: Buffer;
  compact: string;
}

/** A cache of checked protected headers, keyed by their base64url segment. */
export interface HeaderCache {
  get(segment: string): Record<string, unknown> | undefined;
  set(segment: string, header: Record<string, unknown>): void;
}

/** Options of {@link decodeJws}. */
export interface DecodeJwsOptions {
  /** Largest compact JWS accepted, in bytes. Default 16 384 (16 KiB). */
  maxBytes?: number;
  /**
   * Reuse headers that already passed the checks (every proof from one key carries the
   * same header). Headers stored in or returned from it are deep-frozen and shared.
   * Default: none.
   */
  headerCache?: HeaderCache;
}

/** Defaults of {@link DecodeJwsOptions}. */
export const DECODE_JWS_DEFAULTS = Object.freeze({ maxBytes: 16 * 1024 });

/** An Ed25519 signature (64 bytes) is always 86 base64url characters. */
const SIGNATURE_B64_LENGTH = 86;

function fail(detail: string, code: ErrorCode = 'ERR_JWS_INVALID'): never {
  throw new BatonError(code, detail);
}

/** Decodes one base64url segment holding a JSON object. */
function jsonObjectSegment(segment: string, what: string): Record<string, unknown> {
  if (segment.length === 0 || !isCanonicalB64url(segment)) fail(`${what} is not canonical base64url`);
  const bytes = Buffer.from(segment, 'base64url');
  if (!isUtf8(bytes)) fail(`${what} is not UTF-8`);
  let value: unknown;
  try {
    value = parseJsonStrict(bytes.toString('utf8'));
  } catch (cause) {
    throw new BatonError('ERR_JWS_INVALID', `${what} is not strict JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function checkedHeader(headerB64: string): Record<string, unknown> {
  const header = jsonObjectSegment(headerB64, 'header');
  if (!Object.hasOwn(header, 'alg')) fail('alg missing');
  if (header.alg !== 'EdDSA') fail(`alg ${String(header.alg)} not allowed`, 'ERR_ALG_NOT_ALLOWED');
  // We understand no extensions: crit must not appear, and b64 (RFC 7797) is only
  // meaningful under crit.
  if (Object.hasOwn(header, 'crit')) fail('crit not supported');
  if (Object.hasOwn(header, 'b64')) fail('b64 not supported');
  return header;
}

function deepFreeze<T extends object>(root: T): T {
  const stack: object[] = [root];
  while (stack.length > 0) {
    const o = Object.freeze(stack.pop()!);
    for (const v of Object.values(o)) if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) stack.push(v);
  }
  return root;
}

/**
 * Decodes everything but the payload. Internal to core: lets tests and callers with
 * non-JSON payloads (e.g. RFC 8037 §A.4) reuse the same checks.
 */
export function decodeCompactJws(compact: unknown, opts?: DecodeJwsOptions): DecodedCompactJws {
  const maxBytes = opts?.maxBytes ?? DECODE_JWS_DEFAULTS.maxBytes;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new TypeError('maxBytes must be a positive integer');
  if (typeof compact !== 'string') fail('not a string');
  // Valid input is ASCII, so length in UTF-16 units equals length in bytes.
  if (compact.length > maxBytes) fail('too large');
  const dot1 = compact.indexOf('.');
  const dot2 = dot1 === -1 ? -1 : compact.indexOf('.', dot1 + 1);
  if (dot2 === -1 || compact.indexOf('.', dot2 + 1) !== -1) fail('not three segments');

  const headerB64 = compact.slice(0, dot1);
  const cache = opts?.headerCache;
  let header = cache?.get(headerB64);
  if (header === undefined) {
    header = checkedHeader(headerB64);
    if (cache) cache.set(headerB64, deepFreeze(header));
  }

  const sig = compact.slice(dot2 + 1);
  if (sig.length !== SIGNATURE_B64_LENGTH || !isCanonicalB64url(sig)) fail('signature is not 64 bytes of base64url');
  return {
    header,
    payloadB64: compact.slice(dot1 + 1, dot2),
    signingInput: compact.slice(0, dot2),
    signature: Buffer.from(sig, 'base64url'),
    compact,
  };
}

/**
 * Decodes and structurally checks a compact JWS without verifying its signature.
 * Fails with `ERR_ALG_NOT_ALLOWED` for any `alg` but `EdDSA` (`none`, `HS256`,
 * `RS256`, `ES256`, ...), otherwise `ERR_JWS_INVALID`.
 *
 * @example
 * const jws = decodeJws(token);
 * const key = keysByKid.get(jws.header.kid);
 * if (!key || !verifyJws(jws, key)) throw new BatonError('ERR_TOKEN_SIGNATURE_INVALID');
 */
export function decodeJws(compact: unknown, opts?: DecodeJwsOptions): DecodedJws {
  const d = decodeCompactJws(compact, opts);
  return {
    header: d.header,
    payload: jsonObjectSegment(d.payloadB64, 'payload'),
    signingInput: d.signingInput,
    signature: d.signature,
    compact: d.compact,
  };
}

/** Verifies the Ed25519 signature of a decoded JWS. Never throws: false on any failure. */
export function verifyJws(decoded: Pick<DecodedJws, 'signingInput' | 'signature'>, key: KeyObject): boolean {
  if (typeof decoded?.signingInput !== 'string') return false;
  // The signing input is ASCII; latin1 is a plain byte copy.
  return verifyBytes(Buffer.from(decoded.signingInput, 'latin1'), decoded.signature, key);
}

/** Signs already-encoded segments. Internal to core. */
export function signCompact(headerB64: string, payloadB64: string, privateKey: KeyObject): string {
  const signingInput = `${headerB64}.${payloadB64}`;
  return `${signingInput}.${b64urlEncode(signBytes(Buffer.from(signingInput, 'latin1'), privateKey))}`;
}

/**
 * Signs a JSON payload as a compact JWS with EdDSA. The header always starts with
 * `alg: 'EdDSA'` (any `alg` given is replaced); `crit` and `b64` are refused.
 *
 * @example signJws({ typ: 'at+jwt', kid }, claims, signer.privateKey)
 */
export function signJws(header: Record<string, unknown>, payload: Record<string, unknown>, privateKey: KeyObject): string {
  if (typeof header !== 'object' || header === null) throw new TypeError('header must be an object');
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw new TypeError('payload must be an object');
  const h: Record<string, unknown> = { alg: 'EdDSA' };
  for (const k of Object.keys(header)) {
    if (k === 'alg') continue;
    if (k === 'crit' || k === 'b64') throw new TypeError(`header member ${k} is not supported`);
    h[k] = header[k];
  }
  return signCompact(b64urlEncode(JSON.stringify(h)), b64urlEncode(JSON.stringify(payload)), privateKey);
}
