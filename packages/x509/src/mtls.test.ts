/**
 * Real mutual TLS over grpc-js with Ed25519 X.509-SVIDs on both ends (proof that Node's
 * OpenSSL serves and accepts Ed25519 certificates for server and client auth), and every
 * refusal the channel promises, each with its code.
 */
import { createSecureContext } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { isBatonError, type AuditRecord } from '@baton/core';
import { createClient, createServer, type BatonServer, type ServiceImpl } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { svidChannelCredentials, type SvidChannelCredentials } from './channel-credentials.js';
import { withHandshakeErrors } from './handshake-errors.js';
import { createPeerVerifier } from './peer-verifier.js';
import { peerOf, requireMtls } from './require-mtls.js';
import { mtlsServerCredentials, svidServerCredentials } from './server-credentials.js';
import { createSvidSource, type MutableSvidSource, type Svid } from './svid-source.js';
import { HOUR, TD, agentId, ed25519, makeCa, makeCustomLeaf, makeSvid, svidExtensions } from './testing/pki.js';
import { createCaCertificate, issueSvid } from './issue.js';
import { basicConstraints } from './extensions.js';
import { svidOf } from './svid-source.js';
import { derToPem } from './pem.js';

const now = Date.now();
const ca = makeCa(TD, { notBeforeMs: now - HOUR, notAfterMs: now + 24 * HOUR });
const ALICE = agentId('alice000000000000000');
const BOB = agentId('bob00000000000000000');
const MALLORY = agentId('mallory0000000000000');

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton: ${String(err)}`;
  }
}

interface Served {
  readonly port: number;
  readonly source: MutableSvidSource;
  readonly audit: AuditRecord[];
  readonly server: BatonServer;
}

/** A server for `id` whose getChallenge answers with the verified client's SPIFFE id. */
async function serve(id: string, svid = makeSvid(ca, id, { notBeforeMs: now - 60_000, notAfterMs: now + HOUR }).svid): Promise<Served> {
  const source = createSvidSource({ svid, bundle: ca.bundle });
  const audit: AuditRecord[] = [];
  const verifier = createPeerVerifier({ source, audit: { emit: async (r) => void audit.push(r) } });
  const server = createServer({ tracing: false });
  const impl = {
    async getChallenge(_req, ctx) {
      return { nonce: Buffer.from(peerOf(ctx)!.spiffeId.uri) };
    },
  } as Partial<ServiceImpl<typeof IdentityService>> as ServiceImpl<typeof IdentityService>;
  server.addService(IdentityService, requireMtls(IdentityService, impl, verifier));
  const port = await server.listen('127.0.0.1:0', svidServerCredentials({ source }));
  return { port, source, audit, server };
}

/** A client expecting `expectedId`, presenting `svid` (default: a good SVID for Alice; null: none). */
function client(port: number, expectedId: string, svid?: Svid | null, audit?: AuditRecord[]) {
  const presented = svid === undefined ? makeSvid(ca, ALICE, { notBeforeMs: now - 60_000, notAfterMs: now + HOUR }).svid : svid;
  const source = createSvidSource({ ...(presented ? { svid: presented } : {}), bundle: ca.bundle });
  const creds = svidChannelCredentials({ source, expectedId, ...(audit ? { audit: { emit: async (r) => void audit.push(r) } } : {}) });
  const c = withHandshakeErrors(IdentityService, createClient(IdentityService, `127.0.0.1:${port}`, { credentials: creds, tracing: false, defaultDeadlineMs: 5000 }), creds);
  return { c, creds: creds as SvidChannelCredentials };
}

describe('mTLS over grpc-js with Ed25519 SVIDs', () => {
  let bob: Served;
  beforeAll(async () => {
    bob = await serve(BOB);
  });
  afterAll(async () => {
    await bob.server.shutdown(100);
  });

  it('connects when both sides present valid SVIDs; each learns the other’s verified id; both handshakes are audited with both ids', async () => {
    const clientAudit: AuditRecord[] = [];
    const { c, creds } = client(bob.port, BOB, undefined, clientAudit);
    try {
      const res = await c.getChallenge({});
      expect(Buffer.from(res.nonce).toString()).toBe(ALICE);
      expect(creds.lastPeer?.spiffeId.uri).toBe(BOB);
      expect(clientAudit).toEqual([expect.objectContaining({ type: 'handshake.completed', outcome: 'allow', agent: ALICE, attributes: expect.objectContaining({ peer: BOB, mode: 'client' }) })]);
      expect(bob.audit).toContainEqual(expect.objectContaining({ type: 'handshake.completed', agent: BOB, attributes: expect.objectContaining({ peer: ALICE, mode: 'server' }) }));
      // One connection, one audit record per side, however many calls.
      await c.getChallenge({});
      expect(clientAudit).toHaveLength(1);
      expect(bob.audit.filter((r) => r.type === 'handshake.completed' && r.attributes?.['peer'] === ALICE)).toHaveLength(1);
    } finally {
      c.close();
    }
  });

  it('refuses a server with a valid SVID for another identity (man in the middle): ERR_PEER_IDENTITY_MISMATCH', async () => {
    const mallory = await serve(MALLORY);
    const clientAudit: AuditRecord[] = [];
    const { c, creds } = client(mallory.port, BOB, undefined, clientAudit);
    try {
      expect(await codeOf(c.getChallenge({}))).toBe('ERR_PEER_IDENTITY_MISMATCH');
      expect(creds.lastFailure?.error.detail).toContain(MALLORY);
      expect(clientAudit).toEqual([
        expect.objectContaining({ type: 'handshake.failed', outcome: 'deny', agent: ALICE, reasonCode: 'ERR_PEER_IDENTITY_MISMATCH', attributes: expect.objectContaining({ peer: MALLORY }) }),
      ]);
      // Mallory's handler never ran: the client hung up before sending the call.
      expect(mallory.audit.filter((r) => r.type === 'handshake.completed')).toHaveLength(0);
    } finally {
      c.close();
      await mallory.server.shutdown(100);
    }
  });

  it.each<[string, () => ReturnType<typeof makeSvid>['svid'], string]>([
    ['from another trust domain', () => {
      const evil = makeCa('evil.example', { notBeforeMs: now - HOUR, notAfterMs: now + HOUR });
      return makeSvid(evil, BOB.replace(TD, 'evil.example'), { notBeforeMs: now - 60_000, notAfterMs: now + HOUR }).svid;
    }, 'ERR_TRUST_DOMAIN_MISMATCH'],
    ['signed by an unknown CA', () => makeSvid(makeCa(TD, { notBeforeMs: now - HOUR, notAfterMs: now + HOUR }), BOB, { notBeforeMs: now - 60_000, notAfterMs: now + HOUR }).svid, 'ERR_PEER_CERT_INVALID'],
    ['expired', () => makeSvid(ca, BOB, { notBeforeMs: now - HOUR, notAfterMs: now - 1000 }).svid, 'ERR_PEER_CERT_INVALID'],
    ['not yet valid', () => makeSvid(ca, BOB, { notBeforeMs: now + 600_000, notAfterMs: now + HOUR }).svid, 'ERR_PEER_CERT_INVALID'],
    ['flagged as a CA', () => {
      const leaf = makeCustomLeaf(ca, { extensions: svidExtensions(ca, [BOB], [basicConstraints(true)]), notBeforeMs: now - 60_000, notAfterMs: now + HOUR });
      return svidOf(leaf.der, leaf.keys.privateKey);
    }, 'ERR_PEER_CERT_INVALID'],
  ])('refuses a server certificate %s, with its code', async (_name, svid, code) => {
    const bad = await serve(BOB, svid());
    const { c } = client(bad.port, BOB);
    try {
      expect(await codeOf(c.getChallenge({}))).toBe(code);
    } finally {
      c.close();
      await bad.server.shutdown(100);
    }
  });

  it.each<[string, () => Svid | null, string]>([
    ['no client certificate (server-only TLS)', () => null, 'ERR_PEER_CERT_INVALID'],
    ['an expired client SVID', () => makeSvid(ca, ALICE, { notBeforeMs: now - HOUR, notAfterMs: now - 1000 }).svid, 'ERR_PEER_CERT_INVALID'],
    ['a client SVID from another trust domain', () => makeSvid(makeCa('evil.example', { notBeforeMs: now - HOUR, notAfterMs: now + HOUR }), ALICE.replace(TD, 'evil.example'), { notBeforeMs: now - 60_000, notAfterMs: now + HOUR }).svid, 'ERR_PEER_CERT_INVALID'],
    ['a client SVID from an unknown CA', () => makeSvid(makeCa(TD, { notBeforeMs: now - HOUR, notAfterMs: now + HOUR }), ALICE, { notBeforeMs: now - 60_000, notAfterMs: now + HOUR }).svid, 'ERR_PEER_CERT_INVALID'],
    ['a client certificate with two URI SANs', () => {
      const leaf = makeCustomLeaf(ca, { extensions: svidExtensions(ca, [ALICE, MALLORY]), notBeforeMs: now - 60_000, notAfterMs: now + HOUR });
      return svidOfTwo(leaf.der, leaf.keys.privateKey);
    }, 'ERR_PEER_CERT_INVALID'],
    ['a client certificate flagged as a CA', () => {
      const leaf = makeCustomLeaf(ca, { extensions: svidExtensions(ca, [ALICE], [basicConstraints(true)]), notBeforeMs: now - 60_000, notAfterMs: now + HOUR });
      return svidOf(leaf.der, leaf.keys.privateKey);
    }, 'ERR_PEER_CERT_INVALID'],
  ])('the server refuses %s, and the client reads the code', async (_name, svid, code) => {
    const s = svid();
    const { c } = client(bob.port, BOB, s);
    try {
      expect(await codeOf(c.getChallenge({}))).toBe(code);
    } finally {
      c.close();
    }
    expect(bob.audit).toContainEqual(expect.objectContaining({ type: 'handshake.failed', outcome: 'deny', agent: BOB, reasonCode: code }));
  });

  it('refuses plain TCP (h2c) to an mTLS port', async () => {
    const plain = createClient(IdentityService, `127.0.0.1:${bob.port}`, { tracing: false, defaultDeadlineMs: 3000 });
    try {
      expect(await codeOf(plain.getChallenge({}))).toBe('ERR_UNAVAILABLE');
    } finally {
      plain.close();
    }
  });

  it('refuses a stock server-only TLS client per call', async () => {
    const stock = createClient(IdentityService, `127.0.0.1:${bob.port}`, {
      credentials: grpc.credentials.createSsl(Buffer.from(ca.bundle.toPem()), null, null, { checkServerIdentity: () => undefined }),
      tracing: false,
      defaultDeadlineMs: 3000,
      channelOptions: { 'grpc.ssl_target_name_override': 'bob' },
    });
    try {
      expect(await codeOf(stock.getChallenge({}))).toBe('ERR_PEER_CERT_INVALID');
    } finally {
      stock.close();
    }
  });

  it('refuses TLS 1.2, even with a valid client SVID', async () => {
    const { svid } = makeSvid(ca, ALICE, { notBeforeMs: now - 60_000, notAfterMs: now + HOUR });
    const context = createSecureContext({
      maxVersion: 'TLSv1.2',
      ca: ca.bundle.toPem(),
      cert: derToPem(svid.certificate),
      key: svid.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    });
    const old = createClient(IdentityService, `127.0.0.1:${bob.port}`, {
      credentials: grpc.credentials.createFromSecureContext(context, { checkServerIdentity: () => undefined }),
      tracing: false,
      defaultDeadlineMs: 3000,
      channelOptions: { 'grpc.ssl_target_name_override': 'bob' },
    });
    try {
      expect(await codeOf(old.getChallenge({}))).toBe('ERR_UNAVAILABLE');
    } finally {
      old.close();
    }
  });

  it('rotates the served SVID in place: new connections see the new certificate', async () => {
    const server = await serve(BOB);
    const first = client(server.port, BOB);
    const second = client(server.port, BOB);
    try {
      await first.c.getChallenge({});
      const before = first.creds.lastPeer!.thumbprint;
      server.source.update({ svid: makeSvid(ca, BOB, { notBeforeMs: now - 60_000, notAfterMs: now + 2 * HOUR }).svid });
      await second.c.getChallenge({});
      expect(second.creds.lastPeer!.thumbprint).not.toBe(before);
      expect(second.creds.lastPeer!.notAfter).toBeGreaterThan(first.creds.lastPeer!.notAfter);
    } finally {
      first.c.close();
      second.c.close();
      await server.server.shutdown(100);
    }
  });
});

/** An Svid for a certificate with several URI SANs (svidOf refuses those on purpose). */
function svidOfTwo(der: Buffer, privateKey: import('node:crypto').KeyObject): Svid {
  return { spiffeId: ALICE, certificate: der, privateKey, notBefore: 0, notAfter: Number.MAX_SAFE_INTEGER };
}

describe('a resource server with a certificate from another PKI that requires client SVIDs', () => {
  it('accepts a client SVID over hostname-verified TLS and refuses a client without one', async () => {
    const corpKey = ed25519();
    const corp = { certificate: createCaCertificate({ privateKey: corpKey.privateKey, trustDomain: 'corp.example', notBeforeMs: now - HOUR, notAfterMs: now + HOUR }), privateKey: corpKey.privateKey };
    const serverKey = ed25519();
    const serverCert = issueSvid({ ca: corp, spiffeId: 'spiffe://corp.example/payments', publicKey: serverKey.publicKey, notBeforeMs: now - 60_000, notAfterMs: now + HOUR, dnsNames: ['localhost'] });
    const server = createServer({ tracing: false });
    const impl = {
      async getChallenge(_req, ctx) {
        return { nonce: Buffer.from(peerOf(ctx)!.spiffeId.uri) };
      },
    } as Partial<ServiceImpl<typeof IdentityService>> as ServiceImpl<typeof IdentityService>;
    server.addService(IdentityService, requireMtls(IdentityService, impl, createPeerVerifier({ source: createSvidSource({ bundle: ca.bundle }) })));
    const port = await server.listen('127.0.0.1:0', mtlsServerCredentials({ bundle: ca.bundle, certChain: derToPem(serverCert), privateKey: serverKey.privateKey }));
    const alice = makeSvid(ca, ALICE, { notBeforeMs: now - 60_000, notAfterMs: now + HOUR }).svid;
    const withCert = createSecureContext({ ca: derToPem(corp.certificate), cert: derToPem(alice.certificate), key: alice.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string });
    const good = createClient(IdentityService, `localhost:${port}`, { credentials: grpc.credentials.createFromSecureContext(withCert), tracing: false, defaultDeadlineMs: 5000 });
    const noCert = createClient(IdentityService, `localhost:${port}`, { credentials: grpc.credentials.createSsl(Buffer.from(derToPem(corp.certificate))), tracing: false, defaultDeadlineMs: 5000 });
    try {
      expect(Buffer.from((await good.getChallenge({})).nonce).toString()).toBe(ALICE);
      expect(await codeOf(noCert.getChallenge({}))).toBe('ERR_PEER_CERT_INVALID');
    } finally {
      good.close();
      noCert.close();
      await server.shutdown(100);
    }
  });
});
