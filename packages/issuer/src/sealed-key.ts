/**
 * Envelope encryption of a signing key's private JWK for storage in a shared database:
 * AES-256-GCM (core's `sealBytes`) under a key-encryption key (KEK) that lives only in a
 * 0600 file on each replica. The kid is bound as associated data, so a sealed key cannot
 * be swapped onto another row.
 */
import { openSealedBytes, sealBytes, type exportPrivateJwk } from '@baton/core';

/** A private Ed25519 JWK as `exportPrivateJwk` makes it. */
type PrivateJwk = ReturnType<typeof exportPrivateJwk>;

function aad(kid: string): Buffer {
  return Buffer.from(`baton-signing-key:v1:${kid}`, 'utf8');
}

/** Seals a private JWK for `kid`. */
export function sealPrivateJwk(kek: Uint8Array, kid: string, jwk: PrivateJwk): string {
  return sealBytes(kek, Buffer.from(JSON.stringify(jwk), 'utf8'), aad(kid));
}

/**
 * Opens what {@link sealPrivateJwk} sealed for `kid`. Throws when the KEK differs from
 * the one that sealed it, or the value was altered or moved to another kid.
 */
export function openSealedJwk(kek: Uint8Array, kid: string, sealed: string): PrivateJwk {
  const plain = openSealedBytes(kek, sealed, aad(kid));
  if (!plain) {
    // One message for every failure: wrong KEK, tampering, another kid's value.
    throw new Error('sealed signing key cannot be opened: the key-encryption key differs from the one that sealed it, or the value was altered');
  }
  return JSON.parse(plain.toString('utf8')) as PrivateJwk;
}
