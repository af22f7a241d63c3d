import { execFileSync } from 'node:child_process';
import { X509Certificate, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isBatonError } from '@baton/core';
import { buildCertificate, encodeName, type CertificateExtension } from './certificate-builder.js';
import { parseCertificate } from './certificate-parser.js';
import { subjectAltName } from './extensions.js';
import { issueSvid, randomSerial } from './issue.js';
import { KeyUsageBit, Oid } from './oids.js';
import { derToPem, pemToDers } from './pem.js';
import { HOUR, NOW, TD, agentId, ed25519, makeCa, makeCustomLeaf, makeSvid, svidExtensions } from './testing/pki.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return isBatonError(err) ? err.code : err instanceof TypeError ? 'TypeError' : String(err);
  }
}

describe('createCaCertificate', () => {
  const ca = makeCa();
  const parsed = parseCertificate(ca.certificate);

  it('is a self-signed CA with path length 0 that may only sign certificates', () => {
    expect(parsed.basicConstraints).toEqual({ ca: true, pathLen: 0 });
    expect(parsed.keyUsage?.critical).toBe(true);
    expect([...parsed.keyUsage!.bits].sort()).toEqual([KeyUsageBit.keyCertSign, KeyUsageBit.cRLSign]);
    expect(parsed.issuer.equals(parsed.subject)).toBe(true);
    expect(parsed.altNames.uris).toEqual([`spiffe://${TD}`]);
    expect(parsed.signatureAlgorithm).toBe(Oid.ed25519);
    const x = new X509Certificate(ca.certificate);
    expect(x.ca).toBe(true);
    expect(x.verify(createPublicKey(ca.privateKey))).toBe(true);
    expect(x.checkIssued(x)).toBe(true);
  });

  it('gives each CA key its own subject name, so rotated CAs never collide', () => {
    const other = parseCertificate(makeCa().certificate);
    expect(other.subject.equals(parsed.subject)).toBe(false);
    expect(other.subjectKeyId!.equals(parsed.subjectKeyId!)).toBe(false);
  });
});

describe('issueSvid', () => {
  const ca = makeCa();
  const id = agentId('alice000000000000000');
  const { der, keys } = makeSvid(ca, id, { notBeforeMs: NOW - 60_000, notAfterMs: NOW + 900_000 });
  const c = parseCertificate(der);

  it('follows the X.509-SVID profile: one URI SAN, not a CA, critical digitalSignature, serverAuth + clientAuth', () => {
    expect(c.altNames).toEqual({ uris: [id], dnsNames: [], others: 0 });
    expect(c.basicConstraints).toEqual({ ca: false });
    expect(c.keyUsage?.critical).toBe(true);
    expect([...c.keyUsage!.bits]).toEqual([KeyUsageBit.digitalSignature]);
    expect(c.extKeyUsage).toEqual([Oid.serverAuth, Oid.clientAuth]);
    expect(c.authorityKeyId!.equals(parseCertificate(ca.certificate).subjectKeyId!)).toBe(true);
    expect(c.issuer.equals(parseCertificate(ca.certificate).subject)).toBe(true);
  });

  it('certifies exactly the given key for exactly the given window (whole seconds)', () => {
    expect(c.spki.equals(keys.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    expect(c.notBefore).toBe(NOW - 60_000);
    expect(c.notAfter).toBe(NOW + 900_000);
    expect(c.serial.length).toBe(16);
  });

  it('is read the same way by node:crypto', () => {
    const x = new X509Certificate(der);
    expect(x.ca).toBe(false);
    expect(x.subjectAltName).toBe(`URI:${id}`);
    expect(x.keyUsage).toEqual([Oid.serverAuth, Oid.clientAuth]);
    expect(x.verify(createPublicKey(ca.privateKey))).toBe(true);
    expect(x.checkIssued(new X509Certificate(ca.certificate))).toBe(true);
    expect(x.publicKey.asymmetricKeyType).toBe('ed25519');
  });

  it('adds DNS and IP names only when asked', () => {
    const k = ed25519();
    const d = issueSvid({ ca, spiffeId: `spiffe://${TD}/authority`, publicKey: k.publicKey, notBeforeMs: NOW, notAfterMs: NOW + HOUR, dnsNames: ['localhost'], ipAddresses: ['127.0.0.1', '::1'] });
    expect(new X509Certificate(d).subjectAltName).toBe(`URI:spiffe://${TD}/authority, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1`);
    expect(parseCertificate(d).altNames).toEqual({ uris: [`spiffe://${TD}/authority`], dnsNames: ['localhost'], others: 2 });
  });

  it.each<[string, () => unknown]>([
    ['a CA certificate that is not a CA', () => issueSvid({ ca: { certificate: der, privateKey: keys.privateKey }, spiffeId: id, publicKey: keys.publicKey, notBeforeMs: NOW, notAfterMs: NOW + 1000 })],
    ['a CA key that does not match the CA certificate', () => issueSvid({ ca: { certificate: ca.certificate, privateKey: ed25519().privateKey }, spiffeId: id, publicKey: keys.publicKey, notBeforeMs: NOW, notAfterMs: NOW + 1000 })],
    ['a validity past the CA', () => issueSvid({ ca, spiffeId: id, publicKey: keys.publicKey, notBeforeMs: NOW, notAfterMs: NOW + 365 * 24 * HOUR })],
    ['a validity before the CA', () => issueSvid({ ca, spiffeId: id, publicKey: keys.publicKey, notBeforeMs: NOW - 365 * 24 * HOUR, notAfterMs: NOW })],
    ['a SPIFFE id without a path', () => issueSvid({ ca, spiffeId: `spiffe://${TD}`, publicKey: keys.publicKey, notBeforeMs: NOW, notAfterMs: NOW + 1000 })],
    ['notAfter before notBefore', () => issueSvid({ ca, spiffeId: id, publicKey: keys.publicKey, notBeforeMs: NOW, notAfterMs: NOW - 1000 })],
  ])('refuses %s (TypeError: a programming mistake)', (_name, fn) => {
    expect(codeOf(fn)).toBe('TypeError');
  });

  it('refuses a signing key that is not Ed25519', () => {
    const caCert = parseCertificate(ca.certificate);
    const template = { serial: randomSerial(), issuer: caCert.subject, subject: encodeName([]), notBeforeMs: NOW, notAfterMs: NOW + 1000, publicKey: keys.publicKey, extensions: [] };
    expect(() => buildCertificate(template, keys.publicKey)).toThrow(TypeError);
    expect(() => buildCertificate({ ...template, serial: Uint8Array.from([0x80]) }, ca.privateKey)).toThrow(TypeError);
  });

  it('PEM round-trips', () => {
    const pem = derToPem(der) + derToPem(ca.certificate);
    expect(pemToDers(pem).map((d) => d.equals(der) || d.equals(ca.certificate))).toEqual([true, true]);
    expect(pemToDers(pem)[0]!.equals(der)).toBe(true);
  });
});

describe('parseCertificate refuses certificates RFC 5280 forbids', () => {
  const ca = makeCa();
  const id = agentId('bob00000000000000000');
  const unknownCritical: CertificateExtension = { oid: '1.2.3.4.5', critical: true, value: Buffer.from([0x05, 0x00]) };
  const unknownNonCritical: CertificateExtension = { oid: '1.2.3.4.5', critical: false, value: Buffer.from([0x05, 0x00]) };

  it('an unknown critical extension', () => {
    const { der } = makeCustomLeaf(ca, { extensions: svidExtensions(ca, [id], [unknownCritical]) });
    expect(codeOf(() => parseCertificate(der))).toBe('ERR_PEER_CERT_INVALID');
  });

  it('but ignores an unknown non-critical one', () => {
    const { der } = makeCustomLeaf(ca, { extensions: svidExtensions(ca, [id], [unknownNonCritical]) });
    expect(parseCertificate(der).altNames.uris).toEqual([id]);
  });

  it('a duplicate extension', () => {
    // The builder refuses duplicates, so rename a second SAN-valued extension by hand.
    const twin: CertificateExtension = { oid: '2.5.29.99', critical: false, value: subjectAltName({ uris: [id] }).value };
    const { der } = makeCustomLeaf(ca, { extensions: svidExtensions(ca, [id], [twin]) });
    const hex = der.toString('hex');
    expect(hex.split('0603551d63').length).toBe(2);
    const forged = Buffer.from(hex.replace('0603551d63', '0603551d11'), 'hex');
    expect(codeOf(() => parseCertificate(forged))).toBe('ERR_PEER_CERT_INVALID');
  });

  it.each<[string, (d: Buffer) => Buffer]>([
    ['truncated', (d) => d.subarray(0, d.length - 1)],
    ['trailing garbage', (d) => Buffer.concat([d, Buffer.from([0])])],
    ['empty', () => Buffer.alloc(0)],
    ['oversized', () => Buffer.alloc(17 * 1024)],
  ])('%s input', (_name, mutate) => {
    const { der } = makeSvid(ca, id);
    expect(codeOf(() => parseCertificate(mutate(der)))).toBe('ERR_PEER_CERT_INVALID');
  });
});

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

describe.skipIf(!hasOpenssl)('OpenSSL reads and verifies what the builder makes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-x509-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const now = Date.now();
  const ca = makeCa(TD, { notBeforeMs: now - HOUR, notAfterMs: now + 24 * HOUR });
  const { der } = makeSvid(ca, agentId('carol0000000000000000'), { notBeforeMs: now - 60_000, notAfterMs: now + HOUR });
  writeFileSync(join(dir, 'ca.pem'), derToPem(ca.certificate));
  writeFileSync(join(dir, 'svid.pem'), derToPem(der));
  const ssl = (...args: string[]): string => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

  it.each([['sslclient'], ['sslserver']])('verifies the SVID for purpose %s', (purpose) => {
    expect(ssl('verify', '-purpose', purpose, '-CAfile', 'ca.pem', 'svid.pem').trim()).toBe('svid.pem: OK');
  });

  it('prints the SVID profile', () => {
    const text = ssl('x509', '-in', 'svid.pem', '-noout', '-text');
    expect(text).toMatch(/Version: 3/);
    expect(text).toMatch(/Signature Algorithm: ED25519/);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:FALSE/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \s*TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/URI:spiffe:\/\/baton\.local\/agent\/orch-1\/task-1\/carol0000000000000000/);
  });

  it('prints the CA profile', () => {
    const text = ssl('x509', '-in', 'ca.pem', '-noout', '-text');
    expect(text).toMatch(/X509v3 Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Certificate Sign, CRL Sign/);
  });
});
