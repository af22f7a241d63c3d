/**
 * Where TLS credentials read the local identity from: the current X.509-SVID (with its
 * private key) and the trust bundle peers are verified against. Rotation replaces both
 * here; servers re-key at once, clients on their next connection.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseCertificate } from './certificate-parser.js';
import type { TrustBundle } from './trust-bundle.js';

/** The local X.509-SVID. The private key never leaves the process. */
export interface Svid {
  /** The SPIFFE id the certificate names (its one URI SAN). */
  readonly spiffeId: string;
  /** DER of the leaf certificate. */
  readonly certificate: Buffer;
  readonly privateKey: KeyObject;
  /** Validity, ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** A read-only, observable view of the local identity. */
export interface SvidSource {
  /** The SVID to present; undefined before one was issued (then only server-only TLS is possible). */
  readonly svid: Svid | undefined;
  /** Authorities peers must chain to. */
  readonly bundle: TrustBundle;
  /** Called after every change; returns the unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/** A source the owner updates (the agent SDK on SVID rotation, the authority on renewal). */
export interface MutableSvidSource extends SvidSource {
  update(next: { readonly svid?: Svid; readonly bundle?: TrustBundle }): void;
}

/**
 * Builds an {@link Svid} from a DER certificate and its private key. TypeError when the
 * key does not match the certificate or the certificate has not exactly one URI SAN.
 */
export function svidOf(certificate: Uint8Array, privateKey: KeyObject): Svid {
  const c = parseCertificate(certificate);
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  if (!spki.equals(c.spki)) throw new TypeError('svidOf: the private key does not match the certificate');
  if (c.altNames.uris.length !== 1) throw new TypeError('svidOf: an SVID has exactly one URI SAN');
  return Object.freeze({ spiffeId: c.altNames.uris[0]!, certificate: c.der, privateKey, notBefore: c.notBefore, notAfter: c.notAfter });
}

/**
 * A mutable source holding `initial`. Listeners run synchronously after each update; a
 * listener that throws does not stop the others.
 *
 * @example
 * const source = createSvidSource({ svid: svidOf(der, key.privateKey), bundle });
 * source.update({ svid: svidOf(renewedDer, key.privateKey) });
 */
export function createSvidSource(initial: { readonly svid?: Svid; readonly bundle: TrustBundle }): MutableSvidSource {
  let svid = initial.svid;
  let bundle = initial.bundle;
  const listeners = new Set<() => void>();
  return {
    get svid() {
      return svid;
    },
    get bundle() {
      return bundle;
    },
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    update(next) {
      if (next.svid !== undefined) svid = next.svid;
      if (next.bundle !== undefined) bundle = next.bundle;
      for (const l of [...listeners]) {
        try {
          l();
        } catch {
          /* one failing listener must not keep the others on stale credentials */
        }
      }
    },
  };
}
