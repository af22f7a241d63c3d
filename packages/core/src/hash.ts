/**
 * SHA-256 and HMAC-SHA-256 helpers over node:crypto.
 */
import crypto from 'node:crypto';

// crypto.hash (Node >= 20.12) is a one-shot digest without a Hash object; older 20.x
// fall back to createHash.
const hasOneShot = typeof crypto.hash === 'function';

function digest(data: Uint8Array | string): Buffer {
  if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
    throw new TypeError('sha256 expects a Uint8Array or a string');
  }
  return hasOneShot ? crypto.hash('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
}

/** SHA-256 of bytes, or of a string as UTF-8. */
export function sha256(data: Uint8Array | string): Buffer {
  return digest(data);
}

/**
 * SHA-256 as unpadded base64url: the form of `ath`, `rh`, JWK thumbprints and
 * `x5t#S256`.
 *
 * @example sha256B64url(accessToken) // value for a proof's `ath`
 */
export function sha256B64url(data: Uint8Array | string): string {
  return digest(data).toString('base64url');
}

/** SHA-256 as lowercase hex. */
export function sha256Hex(data: Uint8Array | string): string {
  return digest(data).toString('hex');
}

/**
 * HMAC-SHA-256 of `value` (UTF-8) under `key`, as base64url. Used to correlate audit
 * entries (e.g. the same principal) without storing the value itself.
 */
export function keyedHash(key: Uint8Array, value: string): string {
  if (!(key instanceof Uint8Array) || key.byteLength < 16) {
    throw new TypeError('keyedHash expects a key of at least 16 bytes');
  }
  if (typeof value !== 'string') throw new TypeError('keyedHash expects a string value');
  return crypto.createHmac('sha256', key).update(value, 'utf8').digest('base64url');
}
