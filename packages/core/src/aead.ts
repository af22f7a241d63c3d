/**
 * Authenticated encryption for key material at rest (AES-256-GCM): the only symmetric
 * cipher in Baton, kept beside the other crypto primitives. Format
 * `v1.<iv>.<ciphertext>.<tag>` (base64url parts); `aad` binds the value to its context.
 */
import crypto from 'node:crypto';
import { b64urlDecode, b64urlEncode } from './encoding.js';
import { randomBytes } from './random.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== 32) throw new TypeError('AES-256-GCM key must be 32 bytes');
}

/** Encrypts and authenticates `plaintext` under `key`, bound to `aad`. */
export function sealBytes(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): string {
  checkKey(key);
  const iv = randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [VERSION, b64urlEncode(iv), b64urlEncode(ct), b64urlEncode(cipher.getAuthTag())].join('.');
}

/**
 * Opens what {@link sealBytes} sealed. Returns undefined on any failure (wrong key,
 * altered value, other `aad`, unknown format): callers report one generic error.
 */
export function openSealedBytes(key: Uint8Array, sealed: string, aad: Uint8Array): Buffer | undefined {
  checkKey(key);
  const parts = typeof sealed === 'string' ? sealed.split('.') : [];
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
  try {
    const [iv, ct, tag] = parts.slice(1).map((p) => b64urlDecode(p)) as [Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) return undefined;
    const decipher = crypto.createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ct), decipher.final()]);
  } catch {
    return undefined;
  }
}
