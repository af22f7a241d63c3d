/**
 * Encoders for the certificate extensions an identity CA and its SVIDs carry
 * (RFC 5280 §4.2), and the key identifier they share.
 */
import type { KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { sha256 } from '@baton/core';
import type { CertificateExtension } from './certificate-builder.js';
import { boolean, contextIa5, contextPrimitive, integer, namedBits, octetString, oid, sequence } from './der-writer.js';
import { childrenOf, readBitString, readOne } from './der-reader.js';
import { Tag } from './der-writer.js';
import { Oid } from './oids.js';

/** basicConstraints, always critical: `cA` TRUE with an optional path length, or an empty SEQUENCE for a leaf. */
export function basicConstraints(ca: boolean, pathLen?: number): CertificateExtension {
  const value = ca ? sequence(boolean(true), ...(pathLen !== undefined ? [integer(pathLen)] : [])) : sequence();
  return { oid: Oid.basicConstraints, critical: true, value };
}

/** keyUsage, critical, from bit numbers (see `KeyUsageBit`). */
export function keyUsage(bits: readonly number[]): CertificateExtension {
  return { oid: Oid.keyUsage, critical: true, value: namedBits(bits) };
}

/** extKeyUsage (not critical) listing key purpose OIDs. */
export function extKeyUsage(purposes: readonly string[]): CertificateExtension {
  return { oid: Oid.extKeyUsage, critical: false, value: sequence(...purposes.map(oid)) };
}

/** Names for a subjectAltName extension. */
export interface AltNames {
  readonly uris?: readonly string[];
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
}

function ipBytes(ip: string): Buffer {
  const v = isIP(ip);
  if (v === 4) return Buffer.from(ip.split('.').map(Number));
  if (v === 6) {
    const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    if (t.some((g) => g.includes('.')) || h.some((g) => g.includes('.'))) throw new TypeError('IPv4-mapped IPv6 SANs are not supported');
    const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
    return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
  }
  throw new TypeError(`not an IP address: ${ip}`);
}

/**
 * subjectAltName with URI [6], dNSName [2] and iPAddress [7] entries. Critical when the
 * subject is empty (RFC 5280 §4.2.1.6); Baton's subjects are never empty.
 */
export function subjectAltName(names: AltNames, critical = false): CertificateExtension {
  const entries = [
    ...(names.uris ?? []).map((u) => contextIa5(6, u)),
    ...(names.dnsNames ?? []).map((d) => contextIa5(2, d)),
    ...(names.ipAddresses ?? []).map((ip) => contextPrimitive(7, ipBytes(ip))),
  ];
  if (entries.length === 0) throw new TypeError('subjectAltName needs at least one name');
  return { oid: Oid.subjectAltName, critical, value: sequence(...entries) };
}

/**
 * The key identifier of a public key: the leftmost 160 bits of SHA-256 over the
 * subjectPublicKey bits (RFC 7093 §2 method 1).
 */
export function keyIdentifier(publicKey: KeyObject): Buffer {
  const spki = readOne(publicKey.export({ format: 'der', type: 'spki' }), Tag.SEQUENCE);
  const [, bits] = childrenOf(spki);
  if (!bits) throw new TypeError('keyIdentifier: malformed public key');
  return sha256(readBitString(bits).bytes).subarray(0, 20);
}

/** subjectKeyIdentifier (not critical). */
export function subjectKeyIdentifier(keyId: Uint8Array): CertificateExtension {
  return { oid: Oid.subjectKeyIdentifier, critical: false, value: octetString(keyId) };
}

/** authorityKeyIdentifier with only `keyIdentifier [0]` (not critical). */
export function authorityKeyIdentifier(keyId: Uint8Array): CertificateExtension {
  return { oid: Oid.authorityKeyIdentifier, critical: false, value: sequence(contextPrimitive(0, keyId)) };
}
