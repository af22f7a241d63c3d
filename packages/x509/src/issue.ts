/**
 * The two kinds of certificate an identity CA makes: its own self-signed CA certificate,
 * and X.509-SVIDs (SPIFFE X.509-SVID spec): exactly one URI SAN holding the SPIFFE id,
 * not a CA, KeyUsage critical with digitalSignature only, EKU serverAuth + clientAuth.
 * Pure functions over keys and times; the caller decides lifetimes.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { parseSpiffeId, randomBytes } from '@baton/core';
import { buildCertificate, encodeName } from './certificate-builder.js';
import { parseCertificate } from './certificate-parser.js';
import { authorityKeyIdentifier, basicConstraints, extKeyUsage, keyIdentifier, keyUsage, subjectAltName, subjectKeyIdentifier } from './extensions.js';
import { KeyUsageBit, Oid } from './oids.js';

/** A CA certificate (DER) and its private key. */
export interface CaKey {
  readonly certificate: Uint8Array;
  readonly privateKey: KeyObject;
}

/** A fresh certificate serial: 16 random octets, positive, with a non-zero first octet (so its DER is exactly 16 octets). */
export function randomSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b;
}

/** Options of {@link createCaCertificate}. */
export interface CaCertificateOptions {
  readonly privateKey: KeyObject;
  readonly trustDomain: string;
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Subject common name. Default `Baton CA <first 8 hex digits of the key id>`: distinct per key, so rotated CAs never share a name. */
  readonly commonName?: string;
}

/**
 * A self-signed identity CA certificate for `trustDomain`: basicConstraints CA TRUE with
 * path length 0 (it signs SVIDs only), KeyUsage keyCertSign + cRLSign, a URI SAN naming
 * the trust domain (`spiffe://<td>`), and a subject key identifier.
 */
export function createCaCertificate(o: CaCertificateOptions): Buffer {
  const td = parseSpiffeId(`spiffe://${o.trustDomain}`);
  const publicKey = createPublicKey(o.privateKey);
  const keyId = keyIdentifier(publicKey);
  const name = encodeName([
    { oid: Oid.organizationName, value: 'Baton' },
    { oid: Oid.commonName, value: o.commonName ?? `Baton CA ${keyId.subarray(0, 4).toString('hex')}` },
  ]);
  return buildCertificate(
    {
      serial: randomSerial(),
      issuer: name,
      subject: name,
      notBeforeMs: o.notBeforeMs,
      notAfterMs: o.notAfterMs,
      publicKey,
      extensions: [
        basicConstraints(true, 0),
        keyUsage([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]),
        subjectKeyIdentifier(keyId),
        subjectAltName({ uris: [td.uri] }),
      ],
    },
    o.privateKey,
  );
}

/** Options of {@link issueSvid}. */
export interface SvidOptions {
  readonly ca: CaKey;
  /** The SPIFFE id to certify; it must have a path (a bare trust domain names a CA). */
  readonly spiffeId: string;
  /** The holder's public key (Baton: the agent's Ed25519 identity key). */
  readonly publicKey: KeyObject;
  /** Validity; must lie within the CA's. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** Extra DNS names, for servers that hostname-verifying clients also reach (e.g. the authority). */
  readonly dnsNames?: readonly string[];
  /** Extra IP addresses, likewise. */
  readonly ipAddresses?: readonly string[];
}

/**
 * An X.509-SVID for `spiffeId`, signed by `ca`. Programming mistakes (a CA certificate
 * that is not a CA, a key that does not match it, a validity outside the CA's, a SPIFFE
 * id without a path) throw TypeError.
 *
 * @example
 * const der = issueSvid({ ca, spiffeId: 'spiffe://baton.local/agent/o/t/i', publicKey, notBeforeMs: now - 60_000, notAfterMs: deadline });
 */
export function issueSvid(o: SvidOptions): Buffer {
  const caCert = parseCertificate(o.ca.certificate);
  if (!caCert.basicConstraints?.ca) throw new TypeError('issueSvid: the CA certificate is not a CA');
  const caKeyId = keyIdentifier(createPublicKey(o.ca.privateKey));
  if (!caCert.subjectKeyId || !caCert.subjectKeyId.equals(caKeyId)) throw new TypeError('issueSvid: the CA private key does not match its certificate');
  // Certificates carry whole seconds: compare what will be encoded.
  const second = (ms: number): number => Math.floor(ms / 1000) * 1000;
  if (second(o.notBeforeMs) < caCert.notBefore || second(o.notAfterMs) > caCert.notAfter) throw new TypeError('issueSvid: validity must lie within the CA certificate');
  const id = parseSpiffeId(o.spiffeId);
  if (id.path === '') throw new TypeError('issueSvid: an SVID names a workload, not a bare trust domain');
  return buildCertificate(
    {
      serial: randomSerial(),
      issuer: caCert.subject,
      subject: encodeName([{ oid: Oid.organizationName, value: 'Baton' }]),
      notBeforeMs: o.notBeforeMs,
      notAfterMs: o.notAfterMs,
      publicKey: o.publicKey,
      extensions: [
        basicConstraints(false),
        keyUsage([KeyUsageBit.digitalSignature]),
        extKeyUsage([Oid.serverAuth, Oid.clientAuth]),
        subjectAltName({ uris: [id.uri], ...(o.dnsNames ? { dnsNames: o.dnsNames } : {}), ...(o.ipAddresses ? { ipAddresses: o.ipAddresses } : {}) }),
        subjectKeyIdentifier(keyIdentifier(o.publicKey)),
        authorityKeyIdentifier(caKeyId),
      ],
    },
    o.ca.privateKey,
  );
}
