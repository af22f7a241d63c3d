import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPublicKey } from 'node:crypto';
import { decodeJws, generateKeyPair, sha256B64url } from '@baton/core';
import { createGuard, jwksFromIssuer } from '@baton/guard';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { KeyUsageBit, Oid, TrustBundle, parseCertificate, verifySvid } from '@baton/x509';
import { memoryIdentityCa, type IdentityCa } from './identity-ca.js';
import { ISSUER, STORES, TD, codeOf, startWithWorkflow, type Harness } from './testing/harness.js';

describe.each(STORES)('X.509-SVIDs (%s)', (kind) => {
  let h: Harness;
  let ca: IdentityCa;
  beforeAll(async () => {
    // The CA reads the harness's manual clock (created inside startWithWorkflow).
    const clock = { now: () => (h ? h.clock.now() : Date.now()) };
    ca = memoryIdentityCa({ trustDomain: TD, clock });
    h = await startWithWorkflow(kind, 'svid', { ca });
  });
  afterAll(async () => {
    await h.close();
  });

  const bundle = (): TrustBundle => TrustBundle.fromDer(TD, ca.authorities());
  const renew = (a: { key: ReturnType<typeof generateKeyPair>; accessToken: string }) =>
    h.client.renewSvid({}, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.renewSvid) });

  it('Register issues an SVID for the registered key: one SPIFFE URI SAN, not a CA, critical digitalSignature, serverAuth + clientAuth', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-svid' }), { over: { name: 'worker' } });
    const svid = res.svid!;
    expect(svid).toBeDefined();
    const c = parseCertificate(svid.certificate);
    expect(c.altNames).toEqual({ uris: [res.spiffeId], dnsNames: [], others: 0 });
    expect(c.basicConstraints?.ca).toBe(false);
    expect(c.keyUsage).toEqual({ bits: new Set([KeyUsageBit.digitalSignature]), critical: true });
    expect(c.extKeyUsage).toEqual([Oid.serverAuth, Oid.clientAuth]);
    expect(c.spki.equals(res.key.publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    // 900 s by default, from a minute ago (clock skew between peers).
    expect(Number(svid.notAfter)).toBe(Math.floor(h.clock.now() / 1000) + 900);
    expect(Number(svid.notBefore)).toBe(Math.floor(h.clock.now() / 1000) - 60);
    expect(svid.x509Authorities.map((d) => Buffer.from(d))).toEqual(ca.authorities());
    expect(verifySvid(svid.certificate, { bundle: bundle(), role: 'client', expectedId: res.spiffeId, nowMs: h.clock.now() }).spiffeId.uri).toBe(res.spiffeId);
  });

  it('never outlives the task deadline', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-short', taskTtlSeconds: 120 }));
    expect(Number(res.svid!.notAfter)).toBe(Number(res.taskDeadline));
    expect(parseCertificate(res.svid!.certificate).notAfter).toBe(Number(res.taskDeadline) * 1000);
  });

  it('puts the CA certificates in GetTrustBundle.x509_authorities', async () => {
    const tb = await h.client.getTrustBundle({});
    expect(tb.x509Authorities.map((d) => Buffer.from(d))).toEqual(ca.authorities());
    expect(bundle().anchors[0]!.certificate.basicConstraints).toEqual({ ca: true, pathLen: 0 });
  });

  it('RenewSvid re-certifies the same key with a fresh window', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-renew' }));
    h.clock.advance(200_000);
    const next = (await renew(res)).svid!;
    const before = parseCertificate(res.svid!.certificate);
    const after = parseCertificate(next.certificate);
    expect(after.spki.equals(before.spki)).toBe(true);
    expect(after.serial.equals(before.serial)).toBe(false);
    expect(after.notAfter).toBe(before.notAfter + 200_000);
    expect(after.altNames.uris).toEqual([res.spiffeId]);
  });

  it.each<[string, (h: Harness) => Promise<unknown>, string]>([
    ['without credentials', (hh) => hh.client.renewSvid({}), 'ERR_TOKEN_MISSING'],
  ])('RenewSvid refuses a call %s', async (_name, call, code) => {
    expect(await codeOf(call(h))).toBe(code);
  });

  it('RenewSvid refuses a superseded instance', async () => {
    const first = await h.register(await h.launchToken({ taskId: 'task-sup' }), { over: { name: 'w' } });
    await h.register(await h.launchToken({ taskId: 'task-sup' }), { over: { name: 'w' } });
    expect(await codeOf(renew(first))).toBe('ERR_AGENT_SUPERSEDED');
  });

  describe('IssueSvidBoundToken', () => {
    const exchange = (a: { key: ReturnType<typeof generateKeyPair>; accessToken: string }, req: Parameters<Harness['client']['issueSvidBoundToken']>[0]) =>
      h.client.issueSvidBoundToken(req, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.issueSvidBoundToken) });

    it('binds a token to the SVID alone (cnf x5t#S256, no jkt), no wider and no longer-lived than the one presented', async () => {
      const res = await h.register(await h.launchToken({ taskId: 'task-bind' }));
      const out = await exchange(res, { certificate: res.svid!.certificate });
      const claims = decodeJws(out.accessToken).payload as Record<string, unknown> & { cnf: Record<string, string>; exp: number; aud: string[] };
      const original = decodeJws(res.accessToken).payload as { exp: number; scope: string; sub: string };
      expect(claims.cnf).toEqual({ 'x5t#S256': sha256B64url(res.svid!.certificate) });
      expect(out.certificateThumbprint).toBe(sha256B64url(res.svid!.certificate));
      expect(claims.sub).toBe(res.spiffeId);
      expect(claims.scope).toBe(original.scope);
      expect(claims.exp).toBeLessThanOrEqual(original.exp);
      expect(claims.aud).toEqual(expect.arrayContaining(['payments', ISSUER]));

      // A resource's guard accepts it only with that client certificate.
      const guard = createGuard({ audience: 'payments', issuer: ISSUER, keys: jwksFromIssuer(h.issuerClient, { clock: h.clock }), clock: h.clock });
      const check = (certificateThumbprint?: string) =>
        guard.check({ token: out.accessToken, htm: 'POST', htu: '/x.v1.P/M', request: { action: 'read', resource: 'invoice' }, certificateThumbprint });
      expect((await check(out.certificateThumbprint)).allow).toBe(true);
      expect(await check(undefined)).toMatchObject({ allow: false, code: 'ERR_CERT_BINDING_MISMATCH' });
      expect(await check(sha256B64url('another certificate'))).toMatchObject({ allow: false, code: 'ERR_CERT_BINDING_MISMATCH' });
    });

    it('narrows scopes and audiences on request and caps the TTL at what the presented token has left', async () => {
      const res = await h.register(await h.launchToken({ taskId: 'task-narrow-bind' }));
      const out = await exchange(res, { certificate: res.svid!.certificate, scopes: [{ action: 'read', resource: 'invoice' }], audiences: ['payments'], requestedTtlSeconds: 86_400 });
      const claims = decodeJws(out.accessToken).payload as { scope: string; exp: number };
      expect(claims.scope).toBe('read:invoice');
      expect(claims.exp).toBeLessThanOrEqual((decodeJws(res.accessToken).payload as { exp: number }).exp);
    });

    it.each<[string, (r: Awaited<ReturnType<Harness['register']>>, other: Awaited<ReturnType<Harness['register']>>) => Promise<Parameters<Harness['client']['issueSvidBoundToken']>[0]>, string]>([
      ["another agent's SVID", async (_r, other) => ({ certificate: other.svid!.certificate }), 'ERR_PEER_IDENTITY_MISMATCH'],
      ['an SVID from a foreign CA', async (r) => {
        const foreign = memoryIdentityCa({ trustDomain: TD, clock: h.clock });
        const cert = await foreign.issue(r.spiffeId, r.key.publicKey, h.clock.now() + 600_000);
        return { certificate: cert.certificate };
      }, 'ERR_PEER_CERT_INVALID'],
      ['a real SVID for its id that certifies another key', async (r) => {
        const cert = await ca.issue(r.spiffeId, generateKeyPair().publicKey, h.clock.now() + 600_000);
        return { certificate: cert.certificate };
      }, 'ERR_CERT_BINDING_MISMATCH'],
      ['garbage as certificate', async () => ({ certificate: Buffer.from('nope') }), 'ERR_PEER_CERT_INVALID'],
      ['a wider scope', async (r) => ({ certificate: r.svid!.certificate, scopes: [{ action: 'delete', resource: 'invoice' }] }), 'ERR_SCOPE_ESCALATION'],
      ['an audience the token does not name', async (r) => ({ certificate: r.svid!.certificate, audiences: ['billing'] }), 'ERR_SCOPE_ESCALATION'],
    ])('refuses %s', async (_name, make, code) => {
      const r = await h.register(await h.launchToken({ taskId: 'task-bind-bad' }), { over: { name: 'r' } });
      const other = await h.register(await h.launchToken({ taskId: 'task-bind-bad' }), { over: { name: 'other' } });
      expect(await codeOf(exchange(r, await make(r, other)))).toBe(code);
    });

    it('refuses to re-bind a certificate-bound token (it is no proof of the key over plaintext)', async () => {
      const res = await h.register(await h.launchToken({ taskId: 'task-rebind' }));
      const out = await exchange(res, { certificate: res.svid!.certificate });
      expect(await codeOf(h.client.issueSvidBoundToken({ certificate: res.svid!.certificate }, { metadata: { authorization: `Bearer ${out.accessToken}` } }))).toBe('ERR_CERT_BINDING_MISMATCH');
    });
  });

  it('Publish registers only the caller: Resolve answers its own SPIFFE id and the key its SVID certifies', async () => {
    const a = await h.register(await h.launchToken({ taskId: 'task-pub' }), { over: { name: 'a' } });
    const b = await h.register(await h.launchToken({ taskId: 'task-pub' }), { over: { name: 'b' } });
    await h.client.publish({ name: 'reviewer', address: '127.0.0.1:9100' }, { metadata: h.dpop(b.key, b.accessToken, IdentityService.method.publish) });
    // A publishing under B's name, even pointing at B's own address, is refused.
    expect(await codeOf(h.client.publish({ name: 'reviewer', address: '127.0.0.1:9100' }, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.publish) }))).toBe('ERR_NAME_TAKEN');
    // A publishing B's address under its own name resolves to A's identity, which B cannot prove.
    await h.client.publish({ name: 'mirror', address: '127.0.0.1:9100' }, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.publish) });
    const mirror = await h.client.resolve({ name: 'mirror', orchestrationId: 'orch-1', taskId: 'task-pub' });
    expect(mirror.spiffeId).toBe(a.spiffeId);
    const resolved = await h.client.resolve({ name: 'reviewer', orchestrationId: 'orch-1', taskId: 'task-pub' });
    expect(resolved.spiffeId).toBe(b.spiffeId);
    const certKey = parseCertificate(b.svid!.certificate).spki;
    expect(createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(resolved.publicKey)]), format: 'der', type: 'spki' }).export({ format: 'der', type: 'spki' }).equals(certKey)).toBe(true);
  });
});

describe('without an identity CA', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWithWorkflow('sqlite', 'noca');
  });
  afterAll(async () => {
    await h.close();
  });

  it('registers without an SVID, publishes no X.509 authorities and refuses RenewSvid', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-noca' }));
    expect(res.svid).toBeUndefined();
    expect((await h.client.getTrustBundle({})).x509Authorities).toEqual([]);
    expect(await codeOf(h.client.renewSvid({}, { metadata: h.dpop(res.key, res.accessToken, IdentityService.method.renewSvid) }))).toBe('ERR_UNAVAILABLE');
  });
});
