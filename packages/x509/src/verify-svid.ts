/**
 * X.509-SVID verification, as both ends of an mTLS channel run it on the peer's leaf
 * certificate. Order (STYLE.md §5): structure (DER, extensions, exactly one SPIFFE URI
 * SAN, trust domain), then the signature of a bundle authority, then time, then the
 * expected identity. The first failure decides the code:
 *
 * - ERR_PEER_CERT_INVALID: malformed, a CA, wrong key usage or purpose, zero or several
 *   URI SANs, a URI SAN that is not a SPIFFE id, not issued by a trusted authority,
 *   expired, not yet valid;
 * - ERR_TRUST_DOMAIN_MISMATCH: a well-formed SVID of another trust domain;
 * - ERR_PEER_IDENTITY_MISMATCH: a valid SVID for another identity than the expected one
 *   (a man in the middle holding a real identity).
 */
import { X509Certificate } from 'node:crypto';
import { BatonError, parseSpiffeId, sha256B64url, type SpiffeId } from '@baton/core';
import { parseCertificate, type ParsedCertificate } from './certificate-parser.js';
import { KeyUsageBit, Oid } from './oids.js';
import type { TrustAnchor, TrustBundle } from './trust-bundle.js';

/** Which end of the connection the certificate authenticates. */
export type SvidRole = 'client' | 'server';

/** Options of {@link verifySvid}. */
export interface VerifySvidOptions {
  /** The CA certificates of the local trust domain. */
  readonly bundle: TrustBundle;
  /** The SPIFFE id the peer must have (from Resolve, never from a hostname). Absent: any id of the trust domain. */
  readonly expectedId?: string | undefined;
  /** `server`: the peer is a server (EKU serverAuth); `client`: a client (EKU clientAuth). */
  readonly role: SvidRole;
  /** Current time, ms. */
  readonly nowMs: number;
}

/** A certificate that passed every check. */
export interface VerifiedSvid {
  readonly spiffeId: SpiffeId;
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** base64url SHA-256 of the DER: the RFC 8705 `x5t#S256` of this certificate. */
  readonly thumbprint: string;
  readonly certificate: ParsedCertificate;
}

function invalid(detail: string): never {
  throw new BatonError('ERR_PEER_CERT_INVALID', detail);
}

/** The structural SVID rules (SPIFFE X.509-SVID §4, §5) for a leaf. */
function checkLeafShape(c: ParsedCertificate, role: SvidRole): SpiffeId {
  if (c.basicConstraints?.ca) invalid('leaf certificate is flagged as a CA');
  const ku = c.keyUsage;
  if (!ku) invalid('no keyUsage extension');
  if (!ku.critical) invalid('keyUsage is not critical');
  if (!ku.bits.has(KeyUsageBit.digitalSignature)) invalid('keyUsage lacks digitalSignature');
  if (ku.bits.has(KeyUsageBit.keyCertSign) || ku.bits.has(KeyUsageBit.cRLSign)) invalid('leaf keyUsage allows signing certificates');
  const purpose = role === 'server' ? Oid.serverAuth : Oid.clientAuth;
  if (!c.extKeyUsage?.includes(purpose)) invalid(`extKeyUsage lacks ${role === 'server' ? 'serverAuth' : 'clientAuth'}`);
  const uris = c.altNames.uris;
  if (uris.length === 0) invalid('no URI SAN');
  if (uris.length > 1) invalid(`${uris.length} URI SANs; an SVID has exactly one`);
  let id: SpiffeId;
  try {
    id = parseSpiffeId(uris[0]);
  } catch {
    return invalid('the URI SAN is not a SPIFFE id');
  }
  if (id.path === '') invalid('the SPIFFE id names a trust domain, not a workload');
  return id;
}

function issuedBy(c: ParsedCertificate, x509: X509Certificate, anchor: TrustAnchor, nowMs: number): boolean {
  const a = anchor.certificate;
  if (!a.subject.equals(c.issuer)) return false;
  if (c.authorityKeyId && a.subjectKeyId && !c.authorityKeyId.equals(a.subjectKeyId)) return false;
  if (nowMs < a.notBefore || nowMs > a.notAfter) return false;
  try {
    return x509.verify(anchor.publicKey);
  } catch {
    return false;
  }
}

/**
 * Verifies `der` as the X.509-SVID of a peer. Only certificates issued directly by an
 * authority of the bundle are accepted (Baton's CA issues SVIDs itself; no intermediates).
 *
 * @example
 * const peer = verifySvid(leafDer, { bundle, role: 'server', expectedId: resolved.spiffeId, nowMs: Date.now() });
 */
export function verifySvid(der: Uint8Array, o: VerifySvidOptions): VerifiedSvid {
  const c = parseCertificate(der);
  const id = checkLeafShape(c, o.role);
  if (id.trustDomain !== o.bundle.trustDomain) {
    throw new BatonError('ERR_TRUST_DOMAIN_MISMATCH', `peer is in trust domain ${id.trustDomain}, expected ${o.bundle.trustDomain}`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(c.der);
  } catch {
    return invalid('certificate unreadable');
  }
  if (!o.bundle.anchors.some((a) => issuedBy(c, x509, a, o.nowMs))) invalid('not issued by an authority of the trust bundle');
  if (o.nowMs < c.notBefore) invalid(`not valid before ${new Date(c.notBefore).toISOString()}`);
  if (o.nowMs > c.notAfter) invalid(`expired at ${new Date(c.notAfter).toISOString()}`);
  if (o.expectedId !== undefined && id.uri !== o.expectedId) {
    throw new BatonError('ERR_PEER_IDENTITY_MISMATCH', `peer is ${id.uri}, expected ${o.expectedId}`);
  }
  return Object.freeze({ spiffeId: id, notBefore: c.notBefore, notAfter: c.notAfter, thumbprint: sha256B64url(c.der), certificate: c });
}
