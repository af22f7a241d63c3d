import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { generateKeyPair, parseAccessTokenClaims, type ErrorCode } from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import { codeOf, ISSUER, startHarness, STORES, type Harness, type TestAgent } from './testing/harness.js';

const renewM = IssuerService.method.renew;
const releaseM = IssuerService.method.release;

function claimsOf(token: string) {
  return parseAccessTokenClaims(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>);
}

describe.each(STORES)('Renew, Release, Introspect over gRPC (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, 'life');
  });
  afterAll(async () => h?.close());

  const renew = (agent: TestAgent, token: string, req: Parameters<Harness['client']['renew']>[0] = {}) =>
    h.client.renew(req, { metadata: h.dpop(agent, token, renewM) });
  const introspect = (token: string) => h.client.introspect({ token });

  it('renews: same sub and binding, rnw+1, new jti, old token dead at once (RENEWED)', async () => {
    const agent = h.newAgent();
    const first = await h.issue(agent, { maxRenewals: 3 });
    h.clock.advance(60_000);
    const r = await renew(agent, first.accessToken);
    const c0 = claimsOf(first.accessToken);
    const c1 = claimsOf(r.accessToken);
    expect(c1.sub).toBe(c0.sub);
    expect(c1.cnf).toEqual(c0.cnf);
    expect(c1.aud).toEqual(c0.aud);
    expect(c1.rnw).toBe(1);
    expect(c1.jti).not.toBe(c0.jti);
    expect(c1.iat).toBe(c0.iat + 60);
    expect(r.grantedTtlSeconds).toBe(300);
    expect(r.renewalsLeft).toBe(2);
    expect(r.scopes.map((s) => `${s.action}:${s.resource}`)).toEqual(['read:invoice', 'approve:invoice']);

    expect(await introspect(first.accessToken)).toMatchObject({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED', sub: '', scope: '' });
    expect((await introspect(r.accessToken)).active).toBe(true);
    // Renewal of the renewed (dead) token is refused.
    expect(await codeOf(renew(agent, first.accessToken))).toBe('ERR_TOKEN_REVOKED');
    expect(h.audit.find((a) => a.type === 'token.renewed' && a.attributes?.jti === c1.jti)).toMatchObject({
      agent: agent.sub,
      outcome: 'allow',
      reasonCode: 'revocation.renewed',
      attributes: { renewal: '1', kid: h.keyRing.activeKid },
    });
    expect(h.audit.find((a) => a.type === 'token.renewed' && a.attributes?.jti === c1.jti)?.reasonDetail).toContain(c0.jti);
  });

  it('records the renewal as one TOKEN entry covering the old token until it could no longer be presented', async () => {
    const agent = h.newAgent();
    const first = await h.issue(agent, { maxRenewals: 3 });
    h.clock.advance(5_000);
    await renew(agent, first.accessToken);
    const c0 = claimsOf(first.accessToken);
    const rows = await h.db.all<{ level: string; reason: string; expires_at: number; not_after_iat: number; actor: string }>(
      'SELECT level, reason, expires_at, not_after_iat, actor FROM issuer_revocations WHERE target = ?',
      [c0.jti],
    );
    expect(rows.map((r) => ({ ...r, expires_at: Number(r.expires_at), not_after_iat: Number(r.not_after_iat) }))).toEqual([
      { level: 'token', reason: 'renewed', expires_at: c0.exp + 30, not_after_iat: c0.iat + 5, actor: `agent:${agent.sub}` },
    ]);
    const old = await h.db.get<{ status: string }>('SELECT status FROM issuer_tokens WHERE jti = ?', [c0.jti]);
    expect(old?.status).toBe('renewed');
  });

  it('narrows scope on request and refuses any widening', async () => {
    const agent = h.newAgent();
    const t = await h.issue(agent);
    const narrower = await renew(agent, t.accessToken, {
      scopes: [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 1000 } } }],
    });
    expect(claimsOf(narrower.accessToken).scopes).toEqual([{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 1000 } } }]);

    const widenings = [
      [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } }], // back up to the old max: wider than held now
      [{ action: 'approve', resource: 'invoice' }], // constraint dropped
      [{ action: 'read', resource: 'invoice' }], // dropped earlier by narrowing
      [{ action: '*', resource: 'invoice' }],
    ];
    for (const scopes of widenings) {
      expect(await codeOf(renew(agent, narrower.accessToken, { scopes })), JSON.stringify(scopes)).toBe('ERR_SCOPE_ESCALATION');
    }
    // A refused renewal does not consume the token.
    expect((await introspect(narrower.accessToken)).active).toBe(true);
    expect(await codeOf(renew(agent, narrower.accessToken, { scopes: [{ action: 'approve', resource: 'in voice' }] }))).toBe('ERR_SCOPE_INVALID');
  });

  it('caps the number of renewals', async () => {
    const agent = h.newAgent();
    let token = (await h.issue(agent, { maxRenewals: 2 })).accessToken;
    token = (await renew(agent, token)).accessToken;
    const last = await renew(agent, token);
    expect(last.renewalsLeft).toBe(0);
    expect(await codeOf(renew(agent, last.accessToken))).toBe('ERR_RENEWAL_LIMIT');
    expect((await introspect(last.accessToken)).active).toBe(true);
  });

  it('never renews past the task deadline', async () => {
    const agent = h.newAgent();
    const now = Math.floor(h.clock.now() / 1000);
    const t = await h.issue(agent, { taskDeadline: BigInt(now + 400) });
    expect(t.grantedTtlSeconds).toBe(300);
    h.clock.advance(200_000);
    const r = await renew(agent, t.accessToken, { requestedTtlSeconds: 300 });
    expect(r.grantedTtlSeconds).toBe(200);
    expect(Number(r.expiresAt)).toBe(now + 400);
    h.clock.advance(200_000); // at the deadline; the token itself is still within its leeway
    expect(await codeOf(renew(agent, r.accessToken))).toBe('ERR_TASK_DEADLINE_PASSED');
  });

  it('is single use under concurrent renewals', async () => {
    const agent = h.newAgent();
    const t = await h.issue(agent);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => renew(agent, t.accessToken)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as { code: string }).code).toBe('ERR_TOKEN_REVOKED');
  });

  it('requires the holder key and a proof for this method', async () => {
    const agent = h.newAgent();
    const t = await h.issue(agent);
    const thief = { ...agent, key: generateKeyPair() };
    const cases: [string, Record<string, string> | undefined, ErrorCode][] = [
      ['no credentials', undefined, 'ERR_TOKEN_MISSING'],
      ['token without proof', { authorization: `DPoP ${t.accessToken}` }, 'ERR_PROOF_MISSING'],
      ['proof by another key', h.dpop(thief, t.accessToken, renewM), 'ERR_PROOF_KEY_MISMATCH'],
      ['proof for Release', h.dpop(agent, t.accessToken, releaseM), 'ERR_PROOF_METHOD_MISMATCH'],
      ['stale proof', dpopMetadata(agent.key, t.accessToken, renewM, h.clock.now() - 120_000), 'ERR_PROOF_STALE'],
      ['tampered token', h.dpop(agent, `${t.accessToken.slice(0, -4)}AAAA`, renewM), 'ERR_TOKEN_SIGNATURE_INVALID'],
    ];
    for (const [name, metadata, code] of cases) {
      expect(await codeOf(h.client.renew({}, metadata ? { metadata } : {})), name).toBe(code);
    }
  });

  it('refuses expired tokens', async () => {
    const agent = h.newAgent();
    const t = await h.issue(agent, { requestedTtlSeconds: 60 });
    h.clock.advance(91_000); // past exp + 30 s leeway
    expect(await codeOf(renew(agent, t.accessToken))).toBe('ERR_TOKEN_EXPIRED');
    expect(await introspect(t.accessToken)).toMatchObject({ active: false, inactiveCode: 'ERR_TOKEN_EXPIRED' });
  });

  it('releases every token of the agent with its own code, and no renewal after', async () => {
    const agent = h.newAgent();
    const bystander = h.newAgent();
    const a1 = await h.issue(agent);
    const a2 = await h.issue(agent);
    const b = await h.issue(bystander);
    const rel = await h.client.release({ reason: 'task complete' }, { metadata: h.dpop(agent, a2.accessToken, releaseM) });
    expect(rel.tokensReleased).toBe(2);
    expect(rel.sequence).toBeGreaterThan(0n);
    for (const t of [a1, a2]) expect(await introspect(t.accessToken)).toMatchObject({ active: false, inactiveCode: 'ERR_TOKEN_RELEASED' });
    expect((await introspect(b.accessToken)).active).toBe(true);
    expect(await codeOf(renew(agent, a1.accessToken))).toBe('ERR_TOKEN_RELEASED');
    expect(await codeOf(h.client.release({}, { metadata: h.dpop(agent, a1.accessToken, releaseM) }))).toBe('ERR_TOKEN_RELEASED');
    expect(h.audit.find((a) => a.type === 'token.released' && a.agent === agent.sub)).toMatchObject({
      action: 'release',
      reasonCode: 'revocation.released',
      attributes: { revocation_kind: 'agent', note: 'task complete' },
    });
  });

  it('introspects in RFC 7662 shape and reveals nothing about bad tokens', async () => {
    const agent = h.newAgent();
    const t = await h.issue(agent);
    const ok = await introspect(t.accessToken);
    const c = claimsOf(t.accessToken);
    expect(ok).toMatchObject({
      active: true,
      sub: agent.sub,
      iss: ISSUER,
      aud: ['payments', ISSUER],
      scope: 'read:invoice approve:invoice',
      jti: c.jti,
      exp: BigInt(c.exp),
      iat: BigInt(c.iat),
      nbf: BigInt(c.nbf),
      cnfJkt: agent.key.thumbprint,
      taskId: 'task-1',
      workflowId: 'invoices',
      principal: 'user:vp@acme.example',
      tokenType: 'DPoP',
      inactiveCode: '',
    });
    const [hdr, body] = t.accessToken.split('.') as [string, string, string];
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${body}.`;
    const cases: [string, string, ErrorCode][] = [
      ['empty', '', 'ERR_TOKEN_MISSING'],
      ['garbage', 'not-a-token', 'ERR_TOKEN_MALFORMED'],
      ['alg none', none, 'ERR_ALG_NOT_ALLOWED'],
      ['tampered signature', `${t.accessToken.slice(0, -4)}AAAA`, 'ERR_TOKEN_SIGNATURE_INVALID'],
      ['foreign signature', `${hdr}.${body}.${Buffer.alloc(64, 7).toString('base64url')}`, 'ERR_TOKEN_SIGNATURE_INVALID'],
      ['oversized', 'a'.repeat(20_000), 'ERR_TOKEN_TOO_LARGE'],
    ];
    for (const [name, token, code] of cases) {
      const r = await introspect(token);
      expect(r, name).toMatchObject({ active: false, inactiveCode: code, sub: '', scope: '', jti: '', exp: 0n });
    }
  });
});
