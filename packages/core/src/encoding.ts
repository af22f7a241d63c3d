/**
 * Base64url (RFC 4648 §5, no padding) as JOSE uses it, with a strict decoder.
 *
 * Node's own decoder is lenient: it skips characters outside the alphabet, accepts
 * padding and ignores non-zero trailing bits, so several strings decode to the same
 * bytes. Signed objects must have exactly one encoding, so the decoder here rejects
 * everything but the canonical form.
 */
import { BatonError } from './errors.js';

const B64URL_RE = /^[A-Za-z0-9_-]*$/;

/** Value (0..63) of each base64url character, -1 elsewhere; used for the trailing-bit check. */
const VALUE = (() => {
  const t = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  return t;
})();

/**
 * Encodes bytes (or a string as UTF-8) as base64url without padding.
 *
 * @example b64urlEncode('{"alg":"EdDSA"}') // 'eyJhbGciOiJFZERTQSJ9'
 */
export function b64urlEncode(data: Uint8Array | string): string {
  if (typeof data === 'string') return Buffer.from(data, 'utf8').toString('base64url');
  if (data instanceof Uint8Array) {
    // A view over the same memory: no copy.
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64url');
  }
  throw new TypeError('b64urlEncode expects a Uint8Array or a string');
}

/**
 * True when `s` is canonical unpadded base64url: only `[A-Za-z0-9_-]`, a length that
 * is not 1 mod 4, and zero bits in the unused low bits of the last character.
 */
export function isCanonicalB64url(s: string): boolean {
  const rem = s.length & 3;
  if (rem === 1 || !B64URL_RE.test(s)) return false;
  if (rem === 0) return true;
  const last = VALUE[s.charCodeAt(s.length - 1)]!;
  // 2 chars carry 1 byte (4 spare bits), 3 chars carry 2 bytes (2 spare bits).
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/**
 * Decodes strict, canonical, unpadded base64url. Anything else (padding, `+`/`/`,
 * whitespace, an impossible length, non-zero trailing bits) throws
 * `BatonError('ERR_INVALID_ARGUMENT')`, so every byte string has exactly one accepted
 * encoding.
 */
export function b64urlDecode(s: string): Buffer {
  if (typeof s !== 'string') throw new TypeError('b64urlDecode expects a string');
  if (!isCanonicalB64url(s)) throw new BatonError('ERR_INVALID_ARGUMENT', 'not canonical base64url');
  return Buffer.from(s, 'base64url');
}
