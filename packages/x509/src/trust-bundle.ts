/**
 * An X.509 trust bundle: the CA certificates of one trust domain (the identity CA and,
 * during a rotation, its predecessor). Built from the DER list `GetTrustBundle` returns
 * in `x509_authorities`.
 */
import { X509Certificate, type KeyObject } from 'node:crypto';
import { BatonError, parseSpiffeId } from '@baton/core';
import { parseCertificate, type ParsedCertificate } from './certificate-parser.js';
import { KeyUsageBit } from './oids.js';
import { derToPem } from './pem.js';

/** One CA certificate a bundle trusts. */
export interface TrustAnchor {
  readonly certificate: ParsedCertificate;
  readonly publicKey: KeyObject;
  readonly x509: X509Certificate;
}

/** Most CA certificates a bundle may hold (a CA and a few predecessors in rotation). */
export const MAX_BUNDLE_AUTHORITIES = 16;

function bad(detail: string): never {
  throw new BatonError('ERR_PEER_CERT_INVALID', `trust bundle: ${detail}`);
}

/**
 * The CA certificates trusted for one trust domain. Every entry must be a CA
 * (basicConstraints cA TRUE, keyCertSign) and, when it names a SPIFFE id, name exactly
 * this trust domain.
 *
 * @example
 * const bundle = TrustBundle.fromDer('baton.local', (await identity.getTrustBundle({})).x509Authorities);
 */
export class TrustBundle {
  readonly trustDomain: string;
  readonly anchors: readonly TrustAnchor[];

  private constructor(trustDomain: string, anchors: readonly TrustAnchor[]) {
    this.trustDomain = trustDomain;
    this.anchors = Object.freeze([...anchors]);
  }

  /** Builds a bundle; ERR_PEER_CERT_INVALID when an entry is malformed or not a CA of this trust domain. */
  static fromDer(trustDomain: string, authorities: readonly Uint8Array[]): TrustBundle {
    const td = parseSpiffeId(`spiffe://${trustDomain}`);
    if (authorities.length === 0) bad('no authorities');
    if (authorities.length > MAX_BUNDLE_AUTHORITIES) bad('too many authorities');
    const anchors = authorities.map((der, i) => {
      const certificate = parseCertificate(der);
      if (!certificate.basicConstraints?.ca) bad(`entry ${i} is not a CA`);
      if (certificate.keyUsage && !certificate.keyUsage.bits.has(KeyUsageBit.keyCertSign)) bad(`entry ${i} may not sign certificates`);
      if (certificate.altNames.uris.some((u) => u !== td.uri)) bad(`entry ${i} names another trust domain`);
      let x509: X509Certificate;
      try {
        x509 = new X509Certificate(certificate.der);
      } catch {
        return bad(`entry ${i} is unreadable`);
      }
      return Object.freeze({ certificate, publicKey: x509.publicKey, x509 });
    });
    return new TrustBundle(td.trustDomain, anchors);
  }

  /** The authorities as DER, in bundle order. */
  get der(): Buffer[] {
    return this.anchors.map((a) => a.certificate.der);
  }

  /** The authorities as one PEM text (for TLS contexts and files). */
  toPem(): string {
    return this.anchors.map((a) => derToPem(a.certificate.der)).join('');
  }

  /** True when both bundles hold the same certificates in the same order. */
  equals(other: TrustBundle): boolean {
    return this.trustDomain === other.trustDomain && this.anchors.length === other.anchors.length && this.anchors.every((a, i) => a.certificate.der.equals(other.anchors[i]!.certificate.der));
  }
}
