/**
 * Agent-to-agent mTLS end to end: two agents registered with the real identity and
 * issuer (with an identity CA) talk over `serve`/`connect`, each proving its SVID and
 * the caller proving its token by the certificate it is bound to. Then every attack the
 * channel must refuse, each with its code.
 */
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, isBatonError, manualClock, registrationMessage, sha256B64url, signBytes } from '@baton/core';
import type { AuditRecord, ErrorCode, KeyPair, ManualClock } from '@baton/core';
import { decisionOf, dpopMetadata } from '@baton/guard';
import { memoryIdentityCa, type IdentityCa } from '@baton/identity';
import { createClient, createServer, type CallContext, type Client, type ServiceImpl } from '@baton/proto';
import { IdentityService, type RegisterResponse } from '@baton/proto/baton/identity/v1/identity_pb.js';
import {
  TrustBundle,
  createSvidSource,
  createCaCertificate,
  issueSvid,
  peerOf,
  svidChannelCredentials,
  svidOf,
  svidServerCredentials,
  withHandshakeErrors,
  type Svid,
} from '@baton/x509';
import { Agent, createAgent } from './agent.js';
import { PAYMENTS_AUDIENCE, paymentsService, startAuthority, type PaymentsService, type TestAuthority } from './testing/authority.js';
import { manualTimers, type ManualTimers } from './testing/manual-timers.js';

async function codeOf(p: Promise<unknown>): Promise<ErrorCode | 'no error' | 'not a BatonError'> {
  try {
    await p;
  } catch (err) {
    return isBatonError(err) ? err.code : 'not a BatonError';
  }
  return 'no error';
}

const TD = 'baton.local';
const service: PaymentsService = paymentsService();
type Approve = { invoice: string; amount: number };

interface Seen {
  readonly subject: string;
  readonly peer: string;
  readonly cnf: Record<string, string>;
  readonly bearer: boolean;
  readonly authorization: string;
}

describe('agent.serve / agent.connect over mTLS', () => {
  let clock: ManualClock;
  let timers: ManualTimers;
  let ca: IdentityCa;
  let authority: TestAuthority;
  const audit: AuditRecord[] = [];
  const agents: Agent[] = [];
  let task = 0;

  beforeAll(async () => {
    clock = manualClock(Date.now());
    timers = manualTimers(clock);
    ca = memoryIdentityCa({ trustDomain: TD, clock });
    authority = await startAuthority(clock, { ca });
  });
  afterAll(async () => {
    for (const a of agents) await a.release().catch(() => undefined);
    await authority?.close();
  });

  async function agent(taskId: string, name: string): Promise<Agent> {
    const a = await createAgent({
      authority: authority.address,
      launchToken: await authority.launchToken(taskId),
      name,
      clock,
      timers,
      heartbeat: false,
      env: {},
      audit: { emit: async (r) => void audit.push(r) },
    });
    agents.push(a);
    return a;
  }

  /** A reviewer agent serving Payments behind mTLS and a guard for `payments`; records what each call proved. */
  async function reviewer(taskId: string, publish = 'reviewer', advertise?: string): Promise<{ agent: Agent; seen: Seen[]; address: string }> {
    const a = await agent(taskId, publish);
    const seen: Seen[] = [];
    const impl = {
      async approve(_req: Approve, ctx: CallContext) {
        const d = decisionOf(ctx);
        seen.push({ subject: d.subject, peer: peerOf(ctx)!.spiffeId.uri, cnf: { ...d.claims.cnf } as Record<string, string>, bearer: d.bearer, authorization: String(ctx.metadata.get('authorization')[0]) });
        return { approvedBy: a.spiffeId, principal: d.principal };
      },
    } as unknown as ServiceImpl<PaymentsService>;
    const server = await a.serve(service, impl, {
      publish,
      ...(advertise ? { advertise } : {}),
      tokens: { audience: PAYMENTS_AUDIENCE, toRequest: (_m, req) => ({ action: 'approve', resource: 'payments', attributes: { amount: (req as Approve).amount } }) },
    });
    return { agent: a, seen, address: server.address };
  }

  it('registers with an SVID for its own key and plans its rotation at half-life', async () => {
    const a = await agent(`task-${++task}`, 'solo');
    const svid = a.svid!;
    expect(svid.spiffeId).toBe(a.spiffeId);
    const half = svid.notBefore + (svid.notAfter - svid.notBefore) / 2;
    expect(timers.pending().some((t) => Math.abs(t.at - half) <= 1000)).toBe(true);
    await a.renewSvid();
    expect(a.svid!.certificate.equals(svid.certificate)).toBe(false);
    expect(a.svid!.notAfter).toBeGreaterThanOrEqual(svid.notAfter);
  });

  it('happy path: two agents talk over mTLS; the caller proves its token with the certificate it is bound to; both handshakes are audited with both ids', async () => {
    const t = `task-${++task}`;
    const r = await reviewer(t);
    const manager = await agent(t, 'manager');
    audit.length = 0;
    const peer = await manager.connect(service, 'reviewer');
    const res = await peer.approve({ invoice: 'inv-7', amount: 400 });
    expect(res.approvedBy).toBe(r.agent.spiffeId);
    const call = r.seen.at(-1)!;
    expect(call.subject).toBe(manager.spiffeId);
    expect(call.peer).toBe(manager.spiffeId);
    expect(call.cnf).toEqual({ 'x5t#S256': sha256B64url(manager.svid!.certificate) });
    expect(call.bearer).toBe(false);
    expect(call.authorization.startsWith('Bearer ')).toBe(true);
    expect(audit).toContainEqual(expect.objectContaining({ type: 'handshake.completed', agent: manager.spiffeId, attributes: expect.objectContaining({ peer: r.agent.spiffeId, mode: 'client' }) }));
    expect(audit).toContainEqual(expect.objectContaining({ type: 'handshake.completed', agent: r.agent.spiffeId, attributes: expect.objectContaining({ peer: manager.spiffeId, mode: 'server' }) }));

    // A DPoP-bound token is accepted on the same kind of channel too.
    const dpop = await manager.connect(service, 'reviewer', { binding: 'dpop' });
    await dpop.approve({ invoice: 'inv-8', amount: 1 });
    expect(r.seen.at(-1)!.cnf).toEqual({ jkt: manager.thumbprint });
  });

  it('rotates SVIDs without dropping peers: the server re-keys in place, the client re-binds its token to the new certificate', async () => {
    const t = `task-${++task}`;
    const r = await reviewer(t);
    const manager = await agent(t, 'manager');
    const peer = await manager.connect(service, 'reviewer');
    await peer.approve({ invoice: 'a', amount: 1 });
    const before = manager.svid!.certificate;

    await manager.renewSvid();
    await r.agent.renewSvid();
    await peer.approve({ invoice: 'b', amount: 1 });
    const after = r.seen.at(-1)!;
    expect(after.cnf['x5t#S256']).toBe(sha256B64url(manager.svid!.certificate));
    expect(after.cnf['x5t#S256']).not.toBe(sha256B64url(before));

    // A fresh connection now sees the reviewer's new certificate.
    const creds = svidChannelCredentials({ source: createSvidSource({ bundle: TrustBundle.fromDer(TD, ca.authorities()) }), expectedId: r.agent.spiffeId });
    const probe = createClient(IdentityService, r.address, { credentials: creds, defaultDeadlineMs: 3000 });
    await probe.getChallenge({}).catch(() => undefined);
    probe.close();
    expect(creds.lastPeer?.thumbprint).toBe(sha256B64url(r.agent.svid!.certificate));
  });

  describe('attacks', () => {
    let t: string;
    let r: Awaited<ReturnType<typeof reviewer>>;
    let manager: Agent;
    beforeAll(async () => {
      t = `task-${++task}`;
      r = await reviewer(t);
      manager = await agent(t, 'manager');
    });

    /** An agent registered by hand, so the test holds its key and SVID. */
    async function rawAgent(name: string): Promise<{ key: KeyPair; res: RegisterResponse; svid: Svid }> {
      const identity = createClient(IdentityService, authority.address);
      try {
        const launchToken = await authority.launchToken(t);
        const key = generateKeyPair();
        const { nonce } = await identity.getChallenge({});
        const res = await identity.register({ launchToken, publicKey: key.rawPublicKey, nonce, signature: signBytes(registrationMessage(nonce, launchToken, key.rawPublicKey), key.privateKey), name });
        return { key, res, svid: svidOf(res.svid!.certificate, key.privateKey) };
      } finally {
        identity.close();
      }
    }

    function rawClient(address: string, expectedId: string, svid?: Svid): Client<PaymentsService> {
      const source = createSvidSource({ ...(svid ? { svid } : {}), bundle: TrustBundle.fromDer(TD, ca.authorities()) });
      const creds = svidChannelCredentials({ source, expectedId });
      return withHandshakeErrors(service, createClient(service, address, { credentials: creds, defaultDeadlineMs: 3000 }), creds);
    }

    it('a real SVID with the wrong SPIFFE id (man in the middle) is refused: ERR_PEER_IDENTITY_MISMATCH', async () => {
      const mallory = await reviewer(t, 'mallory');
      // The entry for "reviewer" names the reviewer's identity; the address leads to Mallory.
      await r.agent.serve(service, {} as ServiceImpl<PaymentsService>, { publish: 'reviewer-hijacked', advertise: mallory.address });
      const peer = await manager.connect(service, 'reviewer-hijacked');
      expect(await codeOf(peer.approve({ invoice: 'x', amount: 1 }))).toBe('ERR_PEER_IDENTITY_MISMATCH');
      expect(mallory.seen).toHaveLength(0);
      expect(audit).toContainEqual(expect.objectContaining({ type: 'handshake.failed', agent: manager.spiffeId, reasonCode: 'ERR_PEER_IDENTITY_MISMATCH', attributes: expect.objectContaining({ peer: mallory.agent.spiffeId }) }));
    });

    it('a peer server from another trust domain is refused: ERR_TRUST_DOMAIN_MISMATCH', async () => {
      const evilKey = generateKeyPair();
      const now = Date.now();
      const evilCa = { certificate: createCaCertificate({ privateKey: evilKey.privateKey, trustDomain: 'evil.example', notBeforeMs: now - 60_000, notAfterMs: now + 3_600_000 }), privateKey: evilKey.privateKey };
      const serverKey = generateKeyPair();
      const evilSvid = svidOf(issueSvid({ ca: evilCa, spiffeId: 'spiffe://evil.example/agent/o/t/reviewer', publicKey: serverKey.publicKey, notBeforeMs: now - 60_000, notAfterMs: now + 600_000 }), serverKey.privateKey);
      const server = createServer();
      server.addService(service, { approve: async () => ({ approvedBy: 'evil', principal: '' }) } as unknown as ServiceImpl<PaymentsService>);
      const port = await server.listen('127.0.0.1:0', svidServerCredentials({ source: createSvidSource({ svid: evilSvid, bundle: TrustBundle.fromDer('evil.example', [evilCa.certificate]) }) }));
      try {
        await r.agent.serve(service, {} as ServiceImpl<PaymentsService>, { publish: 'reviewer-foreign', advertise: `127.0.0.1:${port}` });
        const peer = await manager.connect(service, 'reviewer-foreign');
        expect(await codeOf(peer.approve({ invoice: 'x', amount: 1 }))).toBe('ERR_TRUST_DOMAIN_MISMATCH');
      } finally {
        await server.shutdown(0);
      }
    });

    it('a client certificate from another trust domain is refused by the server: ERR_PEER_CERT_INVALID', async () => {
      const evilKey = generateKeyPair();
      const now = Date.now();
      const evilCa = { certificate: createCaCertificate({ privateKey: evilKey.privateKey, trustDomain: 'evil.example', notBeforeMs: now - 60_000, notAfterMs: now + 3_600_000 }), privateKey: evilKey.privateKey };
      const k = generateKeyPair();
      const evil = svidOf(issueSvid({ ca: evilCa, spiffeId: 'spiffe://evil.example/agent/o/t/manager', publicKey: k.publicKey, notBeforeMs: now - 60_000, notAfterMs: now + 600_000 }), k.privateKey);
      expect(await codeOf(rawClient(r.address, r.agent.spiffeId, evil).approve({ invoice: 'x', amount: 1 }))).toBe('ERR_PEER_CERT_INVALID');
    });

    it('a token bound to a different certificate is refused: ERR_CERT_BINDING_MISMATCH', async () => {
      const peer = await manager.connect(service, 'reviewer');
      await peer.approve({ invoice: 'x', amount: 1 });
      const stolen = r.seen.at(-1)!.authorization; // the manager's certificate-bound token, copied off the wire
      const eve = await rawAgent('eve');
      const eveClient = rawClient(r.address, r.agent.spiffeId, eve.svid);
      expect(await codeOf(eveClient.approve({ invoice: 'x', amount: 1 }, { metadata: { authorization: stolen } }))).toBe('ERR_CERT_BINDING_MISMATCH');
      expect(audit).toContainEqual(expect.objectContaining({ type: 'validation.denied', reasonCode: 'ERR_CERT_BINDING_MISMATCH', agent: manager.spiffeId }));
      // Eve's own DPoP-bound token still works: the refusal is about the binding, not about Eve.
      const ok = await eveClient.approve({ invoice: 'x', amount: 1 }, { metadata: dpopMetadata(eve.key, eve.res.accessToken, '/test.v1.Payments/Approve', clock.now()) });
      expect(ok.approvedBy).toBe(r.agent.spiffeId);
    });

    it('plain TCP to the mTLS port is refused (ERR_UNAVAILABLE), and so is server-only TLS (ERR_PEER_CERT_INVALID)', async () => {
      const plain = createClient(service, r.address, { defaultDeadlineMs: 3000 });
      try {
        expect(await codeOf(plain.approve({ invoice: 'x', amount: 1 }))).toBe('ERR_UNAVAILABLE');
      } finally {
        plain.close();
      }
      expect(await codeOf(rawClient(r.address, r.agent.spiffeId).approve({ invoice: 'x', amount: 1 }))).toBe('ERR_PEER_CERT_INVALID');
    });

    it('an agent cannot publish a discovery entry for another agent’s name: ERR_NAME_TAKEN', async () => {
      const mallory = await agent(t, 'mallory2');
      expect(await codeOf(mallory.serve(service, {} as ServiceImpl<PaymentsService>, { publish: 'reviewer' }))).toBe('ERR_NAME_TAKEN');
      const peer = await manager.connect(service, 'reviewer');
      await peer.approve({ invoice: 'still-reviewer', amount: 1 });
      expect(r.seen.at(-1)!.peer).toBe(manager.spiffeId);
    });

    it('after release, connect and serve refuse and the servers are gone', async () => {
      const quitter = await agent(t, 'quitter');
      const s = await quitter.serve(service, {} as ServiceImpl<PaymentsService>);
      await quitter.release();
      expect(await codeOf(quitter.connect(service, 'reviewer'))).toBe('ERR_TOKEN_RELEASED');
      const probe = rawClient(s.address, quitter.spiffeId, (await rawAgent('probe')).svid);
      expect(await codeOf(probe.approve({ invoice: 'x', amount: 1 }))).toBe('ERR_UNAVAILABLE');
    });
  });

  it('keeps the SVID within the task deadline and the certificate key equal to the agent key', async () => {
    const a = await agent(`task-${++task}`, 'keycheck');
    const certKey = new X509Certificate(a.svid!.certificate).publicKey.export({ format: 'jwk' });
    expect(certKey).toEqual({ kty: 'OKP', crv: 'Ed25519', x: a.publicJwk.x });
    expect(a.svid!.notAfter).toBeLessThanOrEqual(a.taskDeadline);
  });
});
