/**
 * Builds and signs X.509 v3 certificates (RFC 5280) with an Ed25519 key (RFC 8410):
 * the TBSCertificate from a template, then `SEQUENCE { tbs, algorithm, signature }`.
 * node:crypto can parse certificates but not make them; this is the smallest encoder
 * that makes the certificates Baton needs (identity CA, X.509-SVIDs).
 */
import type { KeyObject } from 'node:crypto';
import { sign } from 'node:crypto';
import { bitString, boolean, explicit, integer, octetString, oid, sequence, setOf, time, utf8String } from './der-writer.js';
import { Oid } from './oids.js';

/** One certificate extension: `extnValue` is the DER of the extension's own value. */
export interface CertificateExtension {
  readonly oid: string;
  readonly critical: boolean;
  readonly value: Uint8Array;
}

/** One attribute of a distinguished name (encoded as UTF8String, one per RDN). */
export interface NameAttribute {
  readonly oid: string;
  readonly value: string;
}

/** What a certificate says; the builder adds version, algorithm and signature. */
export interface CertificateTemplate {
  /** Unsigned big-endian serial number: positive, at most 20 octets (RFC 5280 §4.1.2.2). */
  readonly serial: Uint8Array;
  /** DER of the issuer Name: for an issued certificate, exactly the CA's subject bytes. */
  readonly issuer: Uint8Array;
  /** DER of the subject Name. */
  readonly subject: Uint8Array;
  /** ms since the epoch; encoded in whole seconds. */
  readonly notBeforeMs: number;
  readonly notAfterMs: number;
  /** The subject's public key. */
  readonly publicKey: KeyObject;
  readonly extensions: readonly CertificateExtension[];
}

/** `AlgorithmIdentifier { id-Ed25519 }`: parameters absent (RFC 8410 §3). */
export function ed25519AlgorithmIdentifier(): Buffer {
  return sequence(oid(Oid.ed25519));
}

/** DER of a Name: one RDN (a SET with one attribute) per entry, in order. */
export function encodeName(attributes: readonly NameAttribute[]): Buffer {
  return sequence(...attributes.map((a) => setOf(sequence(oid(a.oid), utf8String(a.value)))));
}

function encodeExtension(e: CertificateExtension): Buffer {
  // DER omits a BOOLEAN equal to its DEFAULT, so critical FALSE is not encoded.
  return sequence(oid(e.oid), ...(e.critical ? [boolean(true)] : []), octetString(e.value));
}

function assertTemplate(t: CertificateTemplate, signingKey: KeyObject): void {
  if (signingKey?.type !== 'private' || signingKey.asymmetricKeyType !== 'ed25519') throw new TypeError('buildCertificate: signing key must be an Ed25519 private key');
  if (t.publicKey?.type !== 'public') throw new TypeError('buildCertificate: publicKey must be a public KeyObject');
  if (!(t.serial instanceof Uint8Array) || t.serial.length === 0 || t.serial.length > 20 || (t.serial[0]! & 0x80) !== 0 || t.serial.every((b) => b === 0)) {
    throw new TypeError('buildCertificate: serial must be 1..20 octets, positive and non-zero');
  }
  if (!Number.isFinite(t.notBeforeMs) || !Number.isFinite(t.notAfterMs) || t.notAfterMs <= t.notBeforeMs) {
    throw new TypeError('buildCertificate: notAfter must be after notBefore');
  }
  const oids = t.extensions.map((e) => e.oid);
  if (new Set(oids).size !== oids.length) throw new TypeError('buildCertificate: duplicate extension');
}

/**
 * DER of the certificate described by `template`, signed with `signingKey` (Ed25519).
 *
 * @example
 * const der = buildCertificate({ serial, issuer: caSubject, subject, notBeforeMs, notAfterMs, publicKey, extensions }, caPrivateKey);
 */
export function buildCertificate(template: CertificateTemplate, signingKey: KeyObject): Buffer {
  assertTemplate(template, signingKey);
  const algorithm = ed25519AlgorithmIdentifier();
  const spki = template.publicKey.export({ format: 'der', type: 'spki' });
  const tbs = sequence(
    explicit(0, integer(2)), // v3
    integer(template.serial),
    algorithm,
    Buffer.from(template.issuer),
    sequence(time(template.notBeforeMs), time(template.notAfterMs)),
    Buffer.from(template.subject),
    spki,
    ...(template.extensions.length > 0 ? [explicit(3, sequence(...template.extensions.map(encodeExtension)))] : []),
  );
  const signature = sign(null, tbs, signingKey);
  return sequence(tbs, algorithm, bitString(signature));
}
