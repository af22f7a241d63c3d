import { describe, expect, it } from 'vitest';
import { isBatonError, sha256B64url } from '@baton/core';
import { basicConstraints, extKeyUsage, keyUsage, subjectAltName } from './extensions.js';
import { KeyUsageBit, Oid } from './oids.js';
import { HOUR, NOW, TD, agentId, makeCa, makeCustomLeaf, makeSvid, svidExtensions } from './testing/pki.js';
import { TrustBundle } from './trust-bundle.js';
import { verifySvid, type SvidRole } from './verify-svid.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton: ${String(err)}`;
  }
}

const ca = makeCa();
const alice = agentId('alice000000000000000');
const bob = agentId('bob00000000000000000');
const good = makeSvid(ca, alice);

describe('verifySvid: the happy path', () => {
  it('accepts a current SVID from the bundle and reports its id and x5t#S256', () => {
    const v = verifySvid(good.der, { bundle: ca.bundle, role: 'client', expectedId: alice, nowMs: NOW });
    expect(v.spiffeId.uri).toBe(alice);
    expect(v.spiffeId.trustDomain).toBe(TD);
    expect(v.thumbprint).toBe(sha256B64url(good.der));
    expect(v.notAfter).toBe(NOW + HOUR);
  });

  it.each<[SvidRole]>([['client'], ['server']])('serves as a %s certificate', (role) => {
    expect(codeOf(() => verifySvid(good.der, { bundle: ca.bundle, role, nowMs: NOW }))).toBe('OK');
  });

  it('accepts SVIDs of the old and the new CA while both are in the bundle (rotation)', () => {
    const next = makeCa();
    const both = TrustBundle.fromDer(TD, [next.certificate, ca.certificate]);
    const fresh = makeSvid(next, bob);
    expect(verifySvid(good.der, { bundle: both, role: 'client', nowMs: NOW }).spiffeId.uri).toBe(alice);
    expect(verifySvid(fresh.der, { bundle: both, role: 'client', nowMs: NOW }).spiffeId.uri).toBe(bob);
    // Once the old CA left the bundle, its SVIDs no longer verify.
    expect(codeOf(() => verifySvid(good.der, { bundle: next.bundle, role: 'client', nowMs: NOW }))).toBe('ERR_PEER_CERT_INVALID');
  });
});

describe('verifySvid: bad input and attacks, each with its code', () => {
  const foreignCa = makeCa('evil.example');
  const lookalikeCa = makeCa(TD, { commonName: 'Baton CA same-name' });
  const lookalikeCa2 = makeCa(TD, { commonName: 'Baton CA same-name' });
  const ext = (uris: string[], override = [] as ReturnType<typeof svidExtensions>) => svidExtensions(ca, uris, override);

  const cases: Array<[string, () => Uint8Array, { role?: SvidRole; expectedId?: string; nowMs?: number }, string]> = [
    ['a peer certificate from another trust domain', () => makeSvid(foreignCa, agentId('eve00000000000000000', 'evil.example')).der, {}, 'ERR_TRUST_DOMAIN_MISMATCH'],
    ['another trust domain even when signed by our own CA', () => makeCustomLeaf(ca, { extensions: ext(['spiffe://evil.example/agent/o/t/i']) }).der, {}, 'ERR_TRUST_DOMAIN_MISMATCH'],
    ['a real SVID with the wrong SPIFFE id (man in the middle)', () => makeSvid(ca, bob).der, { expectedId: alice }, 'ERR_PEER_IDENTITY_MISMATCH'],
    ['an expired SVID', () => makeSvid(ca, alice, { notBeforeMs: NOW - 2 * HOUR, notAfterMs: NOW - 1000 }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['an SVID one second past notAfter', () => good.der, { nowMs: NOW + HOUR + 1000 }, 'ERR_PEER_CERT_INVALID'],
    ['a not-yet-valid SVID', () => makeSvid(ca, alice, { notBeforeMs: NOW + 1000, notAfterMs: NOW + HOUR }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['an SVID signed by an unknown CA', () => makeSvid(makeCa(), alice).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['an SVID from a CA with the same name but another key', () => makeSvid(lookalikeCa2, alice).der, { bundleOf: lookalikeCa } as never, 'ERR_PEER_CERT_INVALID'],
    ['a leaf flagged as CA', () => makeCustomLeaf(ca, { extensions: ext([alice], [basicConstraints(true)]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['two URI SANs', () => makeCustomLeaf(ca, { extensions: ext([alice, bob]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['a URI SAN that is not SPIFFE', () => makeCustomLeaf(ca, { extensions: ext(['https://alice.example/']) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['an upper-case SPIFFE scheme', () => makeCustomLeaf(ca, { extensions: ext([alice.replace('spiffe', 'SPIFFE')]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['no URI SAN at all', () => makeCustomLeaf(ca, { extensions: ext([], [subjectAltName({ dnsNames: ['alice.example'] })]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['a bare trust-domain id', () => makeCustomLeaf(ca, { extensions: ext([`spiffe://${TD}`]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['no keyUsage', () => makeCustomLeaf(ca, { extensions: ext([alice]).filter((e) => e.oid !== Oid.keyUsage) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['a non-critical keyUsage', () => makeCustomLeaf(ca, { extensions: ext([alice], [{ ...keyUsage([KeyUsageBit.digitalSignature]), critical: false }]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['keyUsage without digitalSignature', () => makeCustomLeaf(ca, { extensions: ext([alice], [keyUsage([KeyUsageBit.keyEncipherment])]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['a leaf allowed to sign certificates', () => makeCustomLeaf(ca, { extensions: ext([alice], [keyUsage([KeyUsageBit.digitalSignature, KeyUsageBit.keyCertSign])]) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['a server-only certificate used by a client', () => makeCustomLeaf(ca, { extensions: ext([alice], [extKeyUsage([Oid.serverAuth])]) }).der, { role: 'client' }, 'ERR_PEER_CERT_INVALID'],
    ['a client-only certificate used by a server', () => makeCustomLeaf(ca, { extensions: ext([alice], [extKeyUsage([Oid.clientAuth])]) }).der, { role: 'server' }, 'ERR_PEER_CERT_INVALID'],
    ['no extKeyUsage', () => makeCustomLeaf(ca, { extensions: ext([alice]).filter((e) => e.oid !== Oid.extKeyUsage) }).der, {}, 'ERR_PEER_CERT_INVALID'],
    ['a CA certificate presented as a leaf', () => ca.certificate, {}, 'ERR_PEER_CERT_INVALID'],
    ['garbage', () => Buffer.from('not a certificate'), {}, 'ERR_PEER_CERT_INVALID'],
    ['a certificate with a flipped signature byte', () => {
      const d = Buffer.from(good.der);
      d[d.length - 1]! ^= 1;
      return d;
    }, {}, 'ERR_PEER_CERT_INVALID'],
    ['a bundle CA that has itself expired', () => good.der, { bundleOf: makeCa(TD, { notBeforeMs: NOW - 2 * HOUR, notAfterMs: NOW - 1000 }) } as never, 'ERR_PEER_CERT_INVALID'],
  ];

  it.each(cases)('refuses %s', (_name, make, opts, code) => {
    const o = opts as { role?: SvidRole; expectedId?: string; nowMs?: number; bundleOf?: ReturnType<typeof makeCa> };
    const bundle = o.bundleOf ? o.bundleOf.bundle : ca.bundle;
    expect(codeOf(() => verifySvid(make(), { bundle, role: o.role ?? 'client', expectedId: o.expectedId, nowMs: o.nowMs ?? NOW }))).toBe(code);
  });

  it('checks the trust domain before trusting anything in the certificate', () => {
    // A foreign SVID also fails the signature check; the trust-domain code wins because it is decided first.
    const foreign = makeSvid(foreignCa, agentId('eve00000000000000000', 'evil.example')).der;
    expect(codeOf(() => verifySvid(foreign, { bundle: ca.bundle, role: 'server', expectedId: alice, nowMs: NOW }))).toBe('ERR_TRUST_DOMAIN_MISMATCH');
  });

  it('never reports the expected identity for a forged certificate', () => {
    const forged = makeSvid(makeCa(), alice).der; // the right id, the wrong CA
    expect(codeOf(() => verifySvid(forged, { bundle: ca.bundle, role: 'server', expectedId: alice, nowMs: NOW }))).toBe('ERR_PEER_CERT_INVALID');
  });
});

describe('TrustBundle.fromDer', () => {
  it.each<[string, () => Uint8Array[]]>([
    ['no authorities', () => []],
    ['a leaf in the bundle', () => [good.der]],
    ['a CA of another trust domain', () => [makeCa('evil.example').certificate]],
    ['garbage', () => [Buffer.from([0x30, 0x00])]],
    ['too many authorities', () => Array.from({ length: 17 }, () => ca.certificate)],
  ])('refuses %s', (_name, make) => {
    expect(codeOf(() => TrustBundle.fromDer(TD, make()))).toBe('ERR_PEER_CERT_INVALID');
  });

  it('keeps order and compares by content', () => {
    const other = makeCa();
    const a = TrustBundle.fromDer(TD, [ca.certificate, other.certificate]);
    expect(a.der.map((d) => d.equals(ca.certificate))).toEqual([true, false]);
    expect(a.equals(TrustBundle.fromDer(TD, [ca.certificate, other.certificate]))).toBe(true);
    expect(a.equals(TrustBundle.fromDer(TD, [other.certificate, ca.certificate]))).toBe(false);
    expect(a.toPem().match(/BEGIN CERTIFICATE/g)).toHaveLength(2);
  });
});
