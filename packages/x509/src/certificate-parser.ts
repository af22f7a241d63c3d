/**
 * Parses an X.509 v3 certificate into the facts SVID verification needs. Strict DER
 * throughout (see der-reader.ts); an unknown *critical* extension is refused as RFC 5280
 * §4.2 requires, and so are duplicate extensions and a SAN extension without names.
 */
import { BatonError } from '@baton/core';
import { Tag } from './der-writer.js';
import {
  childrenOf,
  expectTag,
  readAscii,
  readBitString,
  readBoolean,
  readNamedBits,
  readOid,
  readOne,
  readSmallInteger,
  readTime,
  readUnsignedInteger,
  type Tlv,
} from './der-reader.js';
import { Oid } from './oids.js';

/** Largest certificate accepted (an SVID is well under 1 KiB). */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

/** The extensions Baton understands; any other critical extension fails parsing. */
const KNOWN = new Set<string>([Oid.basicConstraints, Oid.keyUsage, Oid.extKeyUsage, Oid.subjectAltName, Oid.subjectKeyIdentifier, Oid.authorityKeyIdentifier]);

/** What a certificate says, as far as Baton checks it. */
export interface ParsedCertificate {
  readonly der: Buffer;
  /** DER of the TBSCertificate (the signed bytes). */
  readonly tbs: Buffer;
  readonly serial: Buffer;
  /** Signature algorithm OID (TBS and outer, which must agree). */
  readonly signatureAlgorithm: string;
  /** DER of the issuer and subject Names (compared as bytes). */
  readonly issuer: Buffer;
  readonly subject: Buffer;
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
  /** DER of the SubjectPublicKeyInfo. */
  readonly spki: Buffer;
  readonly signature: Buffer;
  /** basicConstraints, when present. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  /** keyUsage bits (and whether the extension was critical), when present. */
  readonly keyUsage?: { readonly bits: ReadonlySet<number>; readonly critical: boolean };
  /** extKeyUsage purposes, when present. */
  readonly extKeyUsage?: readonly string[];
  /** subjectAltName entries by kind; `others` counts every other GeneralName kind. */
  readonly altNames: { readonly uris: readonly string[]; readonly dnsNames: readonly string[]; readonly others: number };
  readonly subjectKeyId?: Buffer;
  readonly authorityKeyId?: Buffer;
}

function fail(detail: string): never {
  throw new BatonError('ERR_PEER_CERT_INVALID', detail);
}

function algorithmOid(t: Tlv): string {
  const parts = childrenOf(expectTag(t, Tag.SEQUENCE));
  if (parts.length < 1 || parts.length > 2) fail('malformed AlgorithmIdentifier');
  return readOid(parts[0]!);
}

function parseAltNames(value: Buffer): ParsedCertificate['altNames'] {
  const names = childrenOf(readOne(value, Tag.SEQUENCE));
  if (names.length === 0) fail('subjectAltName without names');
  const uris: string[] = [];
  const dnsNames: string[] = [];
  let others = 0;
  for (const n of names) {
    if (n.tag === 0x86) uris.push(readAscii(n));
    else if (n.tag === 0x82) dnsNames.push(readAscii(n));
    else others++;
  }
  return { uris, dnsNames, others };
}

function parseBasicConstraints(value: Buffer): { ca: boolean; pathLen?: number } {
  const parts = childrenOf(readOne(value, Tag.SEQUENCE));
  let i = 0;
  let ca = false;
  if (parts[i]?.tag === Tag.BOOLEAN) {
    ca = readBoolean(parts[i++]!);
    // DER never encodes a DEFAULT value: an explicit FALSE is not canonical.
    if (!ca) fail('basicConstraints encodes the default cA FALSE');
  }
  let pathLen: number | undefined;
  if (parts[i]?.tag === Tag.INTEGER) pathLen = readSmallInteger(parts[i++]!);
  if (i !== parts.length) fail('malformed basicConstraints');
  return pathLen === undefined ? { ca } : { ca, pathLen };
}

function keyIdOf(value: Buffer, implicitTag: boolean): Buffer {
  if (!implicitTag) return expectTag(readOne(value), Tag.OCTET_STRING).value;
  const parts = childrenOf(readOne(value, Tag.SEQUENCE));
  const id = parts.find((p) => p.tag === 0x80);
  if (!id) fail('authorityKeyIdentifier without keyIdentifier');
  return id.value;
}

interface Extensions {
  basicConstraints?: { ca: boolean; pathLen?: number };
  keyUsage?: { bits: ReadonlySet<number>; critical: boolean };
  extKeyUsage?: string[];
  altNames: ParsedCertificate['altNames'];
  subjectKeyId?: Buffer;
  authorityKeyId?: Buffer;
}

function parseExtensions(t: Tlv | undefined): Extensions {
  const out: Extensions = { altNames: { uris: [], dnsNames: [], others: 0 } };
  if (!t) return out;
  const list = childrenOf(readOne(t.value, Tag.SEQUENCE));
  if (list.length === 0) fail('empty extensions');
  const seen = new Set<string>();
  for (const ext of list) {
    const parts = childrenOf(expectTag(ext, Tag.SEQUENCE));
    const id = readOid(parts[0] ?? fail('malformed extension'));
    let i = 1;
    let critical = false;
    if (parts[i]?.tag === Tag.BOOLEAN) {
      critical = readBoolean(parts[i++]!);
      if (!critical) fail('extension encodes the default critical FALSE');
    }
    const value = expectTag(parts[i++] ?? fail('extension without value'), Tag.OCTET_STRING).value;
    if (i !== parts.length) fail('malformed extension');
    if (seen.has(id)) fail(`duplicate extension ${id}`);
    seen.add(id);
    if (!KNOWN.has(id)) {
      if (critical) fail(`unknown critical extension ${id}`);
      continue;
    }
    switch (id) {
      case Oid.basicConstraints:
        out.basicConstraints = parseBasicConstraints(value);
        break;
      case Oid.keyUsage:
        out.keyUsage = { bits: readNamedBits(readOne(value)), critical };
        break;
      case Oid.extKeyUsage: {
        const purposes = childrenOf(readOne(value, Tag.SEQUENCE)).map(readOid);
        if (purposes.length === 0) fail('empty extKeyUsage');
        out.extKeyUsage = purposes;
        break;
      }
      case Oid.subjectAltName:
        out.altNames = parseAltNames(value);
        break;
      case Oid.subjectKeyIdentifier:
        out.subjectKeyId = keyIdOf(value, false);
        break;
      case Oid.authorityKeyIdentifier:
        out.authorityKeyId = keyIdOf(value, true);
        break;
    }
  }
  return out;
}

/**
 * Parses `der` (one certificate, nothing after it). Throws ERR_PEER_CERT_INVALID with a
 * precise detail on any deviation.
 */
export function parseCertificate(der: Uint8Array): ParsedCertificate {
  if (!(der instanceof Uint8Array) || der.length === 0) fail('no certificate');
  if (der.length > MAX_CERTIFICATE_BYTES) fail('certificate too large');
  const buf = Buffer.from(der);
  const [tbsT, algT, sigT, ...extra] = childrenOf(readOne(buf, Tag.SEQUENCE));
  if (!tbsT || !algT || !sigT || extra.length > 0) fail('malformed Certificate');
  expectTag(tbsT, Tag.SEQUENCE);
  const outerAlg = algorithmOid(algT);
  const sig = readBitString(sigT);
  if (sig.unused !== 0) fail('signature with unused bits');

  const parts = childrenOf(tbsT);
  let i = 0;
  if (parts[i]?.tag !== 0xa0) fail('not an X.509 v3 certificate');
  const version = readSmallInteger(readOne(parts[i++]!.value, Tag.INTEGER));
  if (version !== 2) fail('not an X.509 v3 certificate');
  const serial = readUnsignedInteger(parts[i++] ?? fail('no serial'));
  if (serial.length > 20 || serial.every((b) => b === 0)) fail('serial number out of range');
  const innerAlgT = parts[i++] ?? fail('no signature algorithm');
  if (!innerAlgT.raw.equals(algT.raw)) fail('signature algorithms disagree');
  const issuer = expectTag(parts[i++] ?? fail('no issuer'), Tag.SEQUENCE).raw;
  const validity = childrenOf(expectTag(parts[i++] ?? fail('no validity'), Tag.SEQUENCE));
  if (validity.length !== 2) fail('malformed validity');
  const notBefore = readTime(validity[0]!);
  const notAfter = readTime(validity[1]!);
  const subject = expectTag(parts[i++] ?? fail('no subject'), Tag.SEQUENCE).raw;
  const spki = expectTag(parts[i++] ?? fail('no public key'), Tag.SEQUENCE).raw;
  // issuerUniqueID [1] / subjectUniqueID [2] are obsolete; Baton never issues them.
  if (parts[i]?.tag === 0x81 || parts[i]?.tag === 0xa1 || parts[i]?.tag === 0x82 || parts[i]?.tag === 0xa2) fail('unique identifiers are not accepted');
  const extT = parts[i]?.tag === 0xa3 ? parts[i++] : undefined;
  if (i !== parts.length) fail('unexpected TBSCertificate fields');
  const ext = parseExtensions(extT);

  return {
    der: buf,
    tbs: tbsT.raw,
    serial,
    signatureAlgorithm: outerAlg,
    issuer,
    subject,
    notBefore,
    notAfter,
    spki,
    signature: sig.bytes,
    ...(ext.basicConstraints ? { basicConstraints: ext.basicConstraints } : {}),
    ...(ext.keyUsage ? { keyUsage: ext.keyUsage } : {}),
    ...(ext.extKeyUsage ? { extKeyUsage: ext.extKeyUsage } : {}),
    altNames: ext.altNames,
    ...(ext.subjectKeyId ? { subjectKeyId: ext.subjectKeyId } : {}),
    ...(ext.authorityKeyId ? { authorityKeyId: ext.authorityKeyId } : {}),
  };
}
