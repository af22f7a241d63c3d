/**
 * Envelope encryption of a signing key's private JWK for storage in a shared database:
 * AES-256-GCM under a key-encryption key (KEK) that lives only in a 0600 file on each
 * replica. The kid is bound as associated data, so a sealed key cannot be swapped onto
 * another row. (node:crypto directly: this is the only symmetric encryption in Baton.)
 */
import crypto from 'node:crypto';
import { b64urlDecode, b64urlEncode, randomBytes, type exportPrivateJwk } from '@baton/core';

/** A private Ed25519 JWK as `exportPrivateJwk` makes it. */
type PrivateJwk = ReturnType<typeof exportPrivateJwk>;

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function aad(kid: string): Buffer {
  return Buffer.from(`baton-signing-key:${VERSION}:${kid}`, 'utf8');
}

function checkKek(kek: Uint8Array): void {
  if (!(kek instanceof Uint8Array) || kek.length !== 32) throw new TypeError('key-encryption key must be 32 bytes');
}

/** Seals a private JWK for `kid`: `v1.<iv>.<ciphertext>.<tag>` (base64url parts). */
export function sealPrivateJwk(kek: Uint8Array, kid: string, jwk: PrivateJwk): string {
  checkKek(kek);
  const iv = randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad(kid));
  const ct = Buffer.concat([cipher.update(JSON.stringify(jwk), 'utf8'), cipher.final()]);
  return [VERSION, b64urlEncode(iv), b64urlEncode(ct), b64urlEncode(cipher.getAuthTag())].join('.');
}

/**
 * Opens what {@link sealPrivateJwk} sealed for `kid`. Throws when the KEK differs from
 * the one that sealed it, or the value was altered or moved to another kid.
 */
export function openSealedJwk(kek: Uint8Array, kid: string, sealed: string): PrivateJwk {
  checkKek(kek);
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) throw new Error('sealed signing key: unknown format');
  try {
    const [iv, ct, tag] = parts.slice(1).map((p) => b64urlDecode(p)) as [Buffer, Buffer, Buffer];
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new Error('shape');
    const decipher = crypto.createDecipheriv('aes-256-gcm', kek, iv, { authTagLength: TAG_BYTES });
    decipher.setAAD(aad(kid));
    decipher.setAuthTag(tag);
    const text = Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
    return JSON.parse(text) as PrivateJwk;
  } catch {
    // One message for every failure: wrong KEK, tampering, another kid's value.
    throw new Error('sealed signing key cannot be opened: the key-encryption key differs from the one that sealed it, or the value was altered');
  }
}
