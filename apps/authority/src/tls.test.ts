import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { generateKeyPair, manualClock, noopAuditSink, registrationMessage, signBytes, type AuditRecord } from '@baton/core';
import { openFileIdentityCa } from '@baton/identity';
import { createClient } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { TrustBundle, createCaCertificate, createSvidSource, derToPem, issueSvid, pemToDers, svidChannelCredentials, verifySvid, withHandshakeErrors } from '@baton/x509';
import { startAuthority, type Authority } from './authority.js';
import { parseTlsConfig } from './authority-tls.js';
import { resolveConfig } from './config.js';
import { codeOf, keyEntry, launchToken, setUpWorkflow, tempDir, type Authorities } from './testing/fixtures.js';

const TD = 'baton.local';
const AUTHORITY_ID = `spiffe://${TD}/authority`;
const mode = (p: string): number => fs.statSync(p).mode & 0o777;

function tlsClients(address: string, bundlePem: string, expectedId = AUTHORITY_ID): Authorities & { creds: ReturnType<typeof svidChannelCredentials> } {
  const creds = svidChannelCredentials({ source: createSvidSource({ bundle: TrustBundle.fromDer(TD, pemToDers(bundlePem)) }), expectedId });
  const identity = withHandshakeErrors(IdentityService, createClient(IdentityService, address, { credentials: creds, tracing: false, defaultDeadlineMs: 5000 }), creds);
  const issuer = withHandshakeErrors(IssuerService, createClient(IssuerService, address, { credentials: creds, tracing: false, defaultDeadlineMs: 5000 }), creds);
  return {
    identity,
    issuer,
    creds,
    close() {
      identity.close();
      issuer.close();
    },
  };
}

describe('authority over TLS with a certificate from its own identity CA', () => {
  const data = tempDir('tls');
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  let authority: Authority;
  let bundlePem: string;

  beforeAll(async () => {
    const config = resolveConfig(
      { dataDir: data.dir, listen: '127.0.0.1:0', services: ['identity', 'issuer'], operators: [keyEntry('admin', operator)], tls: { mode: 'authority-ca', dnsNames: ['localhost'] } },
      data.dir,
      {},
    );
    authority = await startAuthority(config, { audit: noopAuditSink });
    bundlePem = fs.readFileSync(path.join(data.dir, 'trust-bundle.pem'), 'utf8');
  }, 30_000);
  afterAll(async () => {
    await authority?.close();
    data.rm();
  });

  it('keeps the CA and TLS keys owner-only and publishes the trust bundle', () => {
    const caDir = path.join(data.dir, 'keys', 'ca');
    expect(mode(caDir)).toBe(0o700);
    for (const f of fs.readdirSync(caDir)) expect(mode(path.join(caDir, f))).toBe(0o600);
    expect(mode(path.join(data.dir, 'keys', 'tls', 'authority.jwk'))).toBe(0o600);
    expect(mode(path.join(data.dir, 'run'))).toBe(0o700);
    expect(pemToDers(bundlePem)).toHaveLength(1);
  });

  it('serves every service over TLS as spiffe://<td>/authority; an agent registers and gets its SVID', async () => {
    const c = tlsClients(authority.address, bundlePem);
    try {
      const tb = await c.identity.getTrustBundle({});
      expect(tb.x509Authorities.map((d) => derToPem(d)).join('')).toBe(bundlePem);
      expect(c.creds.lastPeer?.spiffeId.uri).toBe(AUTHORITY_ID);
      expect(JSON.parse((await c.issuer.getKeys({})).jwks).keys).toHaveLength(1);

      await setUpWorkflow(c, operator, orchestrator, 'payments', 'orch-1');
      const lt = await launchToken(c, orchestrator, 'payments', 'task-tls');
      const key = generateKeyPair();
      const { nonce } = await c.identity.getChallenge({});
      const res = await c.identity.register({ launchToken: lt, publicKey: key.rawPublicKey, nonce, signature: signBytes(registrationMessage(nonce, lt, key.rawPublicKey), key.privateKey) });
      const svid = verifySvid(res.svid!.certificate, { bundle: TrustBundle.fromDer(TD, pemToDers(bundlePem)), role: 'client', expectedId: res.spiffeId, nowMs: Date.now() });
      expect(svid.spiffeId.uri).toBe(res.spiffeId);
    } finally {
      c.close();
    }
  });

  it('refuses plaintext clients and clients expecting another identity', async () => {
    const plain = createClient(IdentityService, authority.address, { tracing: false, defaultDeadlineMs: 3000 });
    try {
      expect(await codeOf(plain.getTrustBundle({}))).toBe('ERR_UNAVAILABLE');
    } finally {
      plain.close();
    }
    const wrong = tlsClients(authority.address, bundlePem, `spiffe://${TD}/agent/o/t/someone`);
    try {
      expect(await codeOf(wrong.identity.getTrustBundle({}))).toBe('ERR_PEER_IDENTITY_MISMATCH');
    } finally {
      wrong.close();
    }
  });

  it('keeps the same CA across a restart (the bundle does not change)', async () => {
    const again = resolveConfig({ dataDir: data.dir, listen: '127.0.0.1:0', services: ['identity', 'issuer'], store: 'sqlite:other.db', tls: { mode: 'authority-ca' } }, data.dir, {});
    const second = await startAuthority(again, { audit: noopAuditSink });
    try {
      expect(fs.readFileSync(path.join(data.dir, 'trust-bundle.pem'), 'utf8')).toBe(bundlePem);
      const c = tlsClients(second.address, bundlePem);
      expect((await c.identity.getTrustBundle({})).trustDomain).toBe(TD);
      c.close();
    } finally {
      await second.close();
    }
  });
});

describe('authority over TLS with certificate files', () => {
  const data = tempDir('tls-files');
  let authority: Authority;
  let caPem: string;

  beforeAll(async () => {
    // A server certificate for localhost from some other CA, as an operator would provide.
    const caKey = generateKeyPair();
    const now = Date.now();
    const ca = { certificate: createCaCertificate({ privateKey: caKey.privateKey, trustDomain: 'corp.example', notBeforeMs: now - 60_000, notAfterMs: now + 3_600_000 }), privateKey: caKey.privateKey };
    const serverKey = generateKeyPair();
    const cert = issueSvid({ ca, spiffeId: 'spiffe://corp.example/baton', publicKey: serverKey.publicKey, notBeforeMs: now - 60_000, notAfterMs: now + 3_600_000, dnsNames: ['localhost'] });
    caPem = derToPem(ca.certificate);
    fs.writeFileSync(path.join(data.dir, 'cert.pem'), derToPem(cert));
    fs.writeFileSync(path.join(data.dir, 'key.pem'), serverKey.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
    const config = resolveConfig({ dataDir: data.dir, listen: '127.0.0.1:0', services: ['identity', 'issuer'], tls: { mode: 'files', certFile: 'cert.pem', keyFile: 'key.pem' } }, data.dir, {});
    authority = await startAuthority(config, { audit: noopAuditSink });
  }, 30_000);
  afterAll(async () => {
    await authority?.close();
    data.rm();
  });

  it('serves server-only TLS that a stock hostname-verifying client accepts', async () => {
    const port = authority.address.slice(authority.address.lastIndexOf(':') + 1);
    const client = createClient(IdentityService, `localhost:${port}`, { credentials: grpc.credentials.createSsl(Buffer.from(caPem)), tracing: false, defaultDeadlineMs: 5000 });
    try {
      expect((await client.getTrustBundle({})).trustDomain).toBe(TD);
    } finally {
      client.close();
    }
  });
});

describe('parseTlsConfig', () => {
  it.each<[string, unknown]>([
    ['an unknown mode', { mode: 'sometimes' }],
    ['files without a key', { mode: 'files', certFile: 'c.pem' }],
    ['a bad DNS name', { mode: 'authority-ca', dnsNames: ['bad name'] }],
    ['a non-object', 'on'],
  ])('refuses %s', (_name, raw) => {
    expect(() => parseTlsConfig(raw, '/')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });

  it('defaults to off and resolves file paths against the config directory', () => {
    expect(parseTlsConfig(undefined, '/etc/baton')).toEqual({ mode: 'off' });
    expect(parseTlsConfig({ mode: 'files', certFile: 'tls/c.pem', keyFile: 'tls/k.pem' }, '/etc/baton')).toEqual({ mode: 'files', certFile: '/etc/baton/tls/c.pem', keyFile: '/etc/baton/tls/k.pem' });
  });
});

describe('CA rotation while issuing the listener certificate', () => {
  it('is recorded as key.rotated (resource identity_ca) once the audit client exists', async () => {
    const d = tempDir('tls-rotate');
    const t0 = Date.now();
    const before = await openFileIdentityCa(path.join(d.dir, 'keys', 'ca'), { trustDomain: TD, clock: manualClock(t0) });
    const oldKid = before.list().find((c) => c.status === 'active')!.kid;
    const records: AuditRecord[] = [];
    const config = resolveConfig({ dataDir: d.dir, listen: '127.0.0.1:0', services: ['identity', 'issuer'], tls: { mode: 'authority-ca', dnsNames: ['localhost'] } }, d.dir, {});
    // 340 days on: the active CA (365 days) is inside its 30-day rotation window.
    const authority = await startAuthority(config, { audit: { emit: async (r) => void records.push(r) }, clock: manualClock(t0 + 340 * 86_400_000) });
    try {
      const rotations = records.filter((r) => r.type === 'key.rotated' && r.resource === 'identity_ca');
      expect(rotations).toHaveLength(1);
      expect(rotations[0]!.reasonDetail).toContain(oldKid);
      expect(rotations[0]!.attributes?.kid).not.toBe(oldKid);
    } finally {
      await authority.close();
      d.rm();
    }
  }, 30_000);
});
