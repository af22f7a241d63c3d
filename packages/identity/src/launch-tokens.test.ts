import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { decodeJws, generateKeyPair, sha256 } from '@baton/core';
import { CreateLaunchTokenRequestSchema, IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { STORES, codeOf, startWithWorkflow, type Harness } from './testing/harness.js';

type LtReq = MessageInitShape<typeof CreateLaunchTokenRequestSchema>;

describe.each(STORES)('CreateLaunchToken, GetChallenge, GetTrustBundle (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWithWorkflow(kind, 'lt', { maxOutstandingChallenges: 5 });
    await h.createWorkflow('other');
  });
  afterAll(async () => {
    await h.close();
  });

  const base: LtReq = { workflowId: 'invoices', taskId: 'task-1', principal: 'user:vp@acme.example', audiences: ['payments'] };
  const mint = (over: Partial<LtReq> = {}, as = h.orchestrator) => {
    const req = { ...base, ...over } as LtReq;
    return h.client.createLaunchToken(req, { metadata: h.keyProof(as, IdentityService.method.createLaunchToken, CreateLaunchTokenRequestSchema, req) });
  };
  const rowCount = async () => Number((await h.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM identity_launch_tokens'))!.n);

  it('mints a 256-bit single-use token, caps its TTL at 30 s and returns the granted TTL', async () => {
    h.audit.length = 0;
    const nowS = Math.floor(h.clock.now() / 1000);
    const res = await mint({ ttlSeconds: 300 });
    expect(res.launchToken).toMatch(/^blt_[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(res.launchToken.slice(4), 'base64url')).toHaveLength(32);
    expect(res.grantedTtlSeconds).toBe(30);
    expect(Number(res.expiresAt)).toBe(nowS + 30);
    expect(Number(res.taskDeadline)).toBe(nowS + 3600);
    expect((await mint()).grantedTtlSeconds).toBe(30);
    expect((await mint({ ttlSeconds: 5 })).grantedTtlSeconds).toBe(5);
    expect(h.audit.find((r) => r.type === 'launch_token.created')).toMatchObject({ orchestration: 'orch-1', task: 'task-1', workflow: 'invoices' });
    // Only its hash is stored.
    const row = await h.db.get<Record<string, unknown>>('SELECT * FROM identity_launch_tokens WHERE hash = ?', [sha256(res.launchToken).toString('hex')]);
    expect(row).toBeDefined();
    expect(JSON.stringify(row)).not.toContain(res.launchToken.slice(4));
  });

  it('caps the task deadline at the policy maximum', async () => {
    const nowS = Math.floor(h.clock.now() / 1000);
    expect(Number((await mint({ taskTtlSeconds: 99_999 })).taskDeadline)).toBe(nowS + 3600);
    expect(Number((await mint({ taskTtlSeconds: 600 })).taskDeadline)).toBe(nowS + 600);
  });

  it('expires 30 s after minting', async () => {
    const lt = (await mint({ taskId: 'task-ttl' })).launchToken;
    h.clock.advance(30_000);
    expect(await codeOf(h.register(lt))).toBe('ERR_LAUNCH_TOKEN_EXPIRED');
  });

  it('binds the scope ceiling: a narrower ceiling limits what the agent gets', async () => {
    const lt = (await mint({ taskId: 'task-ceiling', scopes: [{ action: 'read', resource: 'invoice' }] })).launchToken;
    const res = await h.register(lt);
    expect(decodeJws(res.accessToken).payload.scope).toBe('read:invoice');
  });

  const refused: [string, Partial<LtReq>, string][] = [
    ['a scope above the workflow ceiling', { scopes: [{ action: 'delete', resource: 'invoice' }] }, 'ERR_SCOPE_ESCALATION'],
    ['a widened constraint', { scopes: [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 9999 } } }] }, 'ERR_SCOPE_ESCALATION'],
    ['a dropped constraint', { scopes: [{ action: 'approve', resource: 'invoice' }] }, 'ERR_SCOPE_ESCALATION'],
    ['an audience outside the workflow', { audiences: ['ledger'] }, 'ERR_SCOPE_ESCALATION'],
    ['a malformed scope', { scopes: [{ action: '', resource: 'invoice' }] }, 'ERR_SCOPE_INVALID'],
    ['a task id with a slash', { taskId: 'task/1' }, 'ERR_ID_INVALID'],
    ['a task id with a space', { taskId: 'task 1' }, 'ERR_ID_INVALID'],
    ['an over-long task id (129)', { taskId: 't'.repeat(129) }, 'ERR_ID_INVALID'],
    ['a task id of ..', { taskId: '..' }, 'ERR_ID_INVALID'],
    ['an empty task id', { taskId: '' }, 'ERR_ID_INVALID'],
    ['a malformed workflow id', { workflowId: 'In Voices' }, 'ERR_ID_INVALID'],
    ['an empty principal', { principal: '' }, 'ERR_ID_INVALID'],
    ['a principal with a newline', { principal: 'user:a\nb' }, 'ERR_ID_INVALID'],
    ['a workflow the orchestrator is not allowed in', { workflowId: 'other' }, 'ERR_PERMISSION_DENIED'],
    ['an unknown workflow', { workflowId: 'nowhere' }, 'ERR_PERMISSION_DENIED'],
  ];
  it.each(refused)('refuses %s and stores nothing', async (_n, over, code) => {
    const before = await rowCount();
    expect(await codeOf(mint(over))).toBe(code);
    expect(await rowCount()).toBe(before);
  });

  it('is for registered orchestrators only', async () => {
    expect(await codeOf(mint({}, h.operator))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(mint({}, generateKeyPair()))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(h.client.createLaunchToken(base))).toBe('ERR_PROOF_MISSING');
  });

  it('issues 32-byte, 30 s, single-use challenges and bounds how many are outstanding', async () => {
    h.clock.advance(60_000); // let earlier challenges expire
    const nowS = Math.floor(h.clock.now() / 1000);
    const first = await h.client.getChallenge({});
    expect(first.nonce).toHaveLength(32);
    expect(Number(first.expiresAt)).toBe(nowS + 30);
    const nonces = [first.nonce];
    for (let i = 0; i < 4; i++) nonces.push((await h.client.getChallenge({})).nonce);
    expect(new Set(nonces.map((n) => Buffer.from(n).toString('hex'))).size).toBe(5);
    expect(await codeOf(h.client.getChallenge({}))).toBe('ERR_RATE_LIMITED');
    // Expired challenges are pruned, which makes room again.
    h.clock.advance(30_000);
    expect((await h.client.getChallenge({})).nonce).toHaveLength(32);
    const rows = await h.db.all<Record<string, unknown>>('SELECT * FROM identity_nonces');
    expect(rows.length).toBeLessThanOrEqual(5);
    expect(JSON.stringify(rows)).not.toContain(Buffer.from(nonces[0]!).toString('hex'));
  });

  it('serves the trust bundle with the issuer JWKS', async () => {
    const lt = (await mint({ taskId: 'task-bundle' })).launchToken;
    const res = await h.register(lt);
    const bundle = await h.client.getTrustBundle({});
    expect(bundle.trustDomain).toBe('baton.local');
    expect(bundle.x509Authorities).toEqual([]);
    expect(bundle.refreshHintSeconds).toBe(60);
    const jwks = JSON.parse(bundle.jwtAuthorities) as { keys: { kid: string; kty: string; crv: string }[] };
    const kid = decodeJws(res.accessToken).header.kid;
    expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    expect(jwks.keys.every((k) => k.kty === 'OKP' && k.crv === 'Ed25519')).toBe(true);
  });
});
