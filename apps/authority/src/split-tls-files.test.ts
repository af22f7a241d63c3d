import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentials } from '@grpc/grpc-js';
import { generateKeyPair, noopAuditSink } from '@baton/core';
import { createClient } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { createCaCertificate, derToPem, issueSvid } from '@baton/x509';
import { startAuthority, type Authority } from './authority.js';
import { resolveConfig } from './config.js';
import { codeOf, keyEntry, launchToken, register, setUpWorkflow, tempDir } from './testing/fixtures.js';

/** A CA and a certificate for `localhost` (no IP address), as an operator's PKI would issue. */
function operatorPki(dir: string, label: string): void {
  const caKey = generateKeyPair();
  const now = Date.now();
  const ca = { certificate: createCaCertificate({ privateKey: caKey.privateKey, trustDomain: 'corp.example', notBeforeMs: now - 60_000, notAfterMs: now + 3_600_000 }), privateKey: caKey.privateKey };
  const serverKey = generateKeyPair();
  const cert = issueSvid({ ca, spiffeId: 'spiffe://corp.example/baton', publicKey: serverKey.publicKey, notBeforeMs: now - 60_000, notAfterMs: now + 3_600_000, dnsNames: ['localhost'] });
  fs.writeFileSync(path.join(dir, `${label}-ca.pem`), derToPem(ca.certificate));
  fs.writeFileSync(path.join(dir, `${label}-cert.pem`), derToPem(cert));
  fs.writeFileSync(path.join(dir, `${label}-key.pem`), serverKey.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string, { mode: 0o600 });
}

// tls.mode "files": the issuer in one authority, identity in another (same data directory,
// so the same service keys); identity reaches the issuer over TLS verified by caFile and
// the host name written in `peers`.
describe('services split across processes over TLS (files)', () => {
  const data = tempDir('split-files');
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  const started: Authority[] = [];
  let issuerPort: string;

  const files = (extra: Record<string, unknown> = {}) => ({ mode: 'files', certFile: 'corp-cert.pem', keyFile: 'corp-key.pem', ...extra });
  const identityWith = (peer: string, tls: Record<string, unknown>, db: string) =>
    resolveConfig({ dataDir: data.dir, store: `sqlite:${db}`, listen: '127.0.0.1:0', services: ['identity'], operators: [keyEntry('admin', operator)], peers: { issuer: peer }, tls }, data.dir, {});

  beforeAll(async () => {
    operatorPki(data.dir, 'corp');
    operatorPki(data.dir, 'other');
    const issuerConfig = resolveConfig({ dataDir: data.dir, store: 'sqlite:issuer.db', listen: '127.0.0.1:0', services: ['issuer'], operators: [keyEntry('admin', operator)], tls: files() }, data.dir, {});
    const issuer = await startAuthority(issuerConfig, { audit: noopAuditSink });
    started.push(issuer);
    issuerPort = issuer.address.slice(issuer.address.lastIndexOf(':') + 1);
  }, 30_000);
  afterAll(async () => {
    for (const a of started.reverse()) await a.close();
    data.rm();
  });

  /** Starts identity with `peer`/`tls` and tries one registration through it (which needs the issuer). */
  async function registerThrough(peer: string, tls: Record<string, unknown>, db: string): Promise<string> {
    const identity = await startAuthority(identityWith(peer, tls, db), { audit: noopAuditSink });
    started.push(identity);
    const port = identity.address.slice(identity.address.lastIndexOf(':') + 1);
    const creds = credentials.createSsl(fs.readFileSync(path.join(data.dir, 'corp-ca.pem')));
    const opts = { credentials: creds, tracing: false, defaultDeadlineMs: 5000 };
    const c = { identity: createClient(IdentityService, `localhost:${port}`, opts), issuer: createClient(IssuerService, `localhost:${issuerPort}`, opts) };
    const both = { ...c, close: () => (c.identity.close(), c.issuer.close()) };
    try {
      await setUpWorkflow(both, operator, orchestrator, 'payments', `orch-${db}`);
      return await codeOf(register(both, await launchToken(both, orchestrator, 'payments', `task-${db}`)));
    } finally {
      both.close();
    }
  }

  it('reaches the remote issuer over TLS verified by caFile and host name', async () => {
    expect(await registerThrough(`localhost:${issuerPort}`, files({ caFile: 'corp-ca.pem' }), 'id-ok.db')).toBe('resolved');
  });

  it('refuses a peer whose certificate does not name the host it was reached by', async () => {
    expect(await registerThrough(`127.0.0.1:${issuerPort}`, files({ caFile: 'corp-ca.pem' }), 'id-ip.db')).toBe('ERR_UNAVAILABLE');
  });

  it('refuses a peer whose certificate comes from another CA', async () => {
    expect(await registerThrough(`localhost:${issuerPort}`, files({ caFile: 'other-ca.pem' }), 'id-other.db')).toBe('ERR_UNAVAILABLE');
  });

  it('will not start with a remote peer and no caFile (no plaintext fallback)', async () => {
    await expect(startAuthority(identityWith(`localhost:${issuerPort}`, files(), 'id-none.db'), { audit: noopAuditSink })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
