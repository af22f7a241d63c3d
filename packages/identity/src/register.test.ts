import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJws, generateKeyPair, parseAgentSpiffeId, randomBytes, registrationMessage, sha256, signBytes } from '@baton/core';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { STORES, codeOf, startWithWorkflow, type Harness } from './testing/harness.js';

describe.each(STORES)('Register (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWithWorkflow(kind, 'reg');
  });
  afterAll(async () => {
    await h.close();
  });

  /** The launch token is still unused: it registers exactly once now. */
  async function assertUnconsumed(lt: string): Promise<void> {
    const ok = await h.register(lt);
    expect(ok.spiffeId).toMatch(/^spiffe:\/\/baton\.local\/agent\/orch-1\//);
    expect(await codeOf(h.register(lt))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
  }

  it('registers an agent end to end and returns a DPoP-bound first token', async () => {
    h.audit.length = 0;
    const lt = await h.launchToken({ taskId: 'task-happy' });
    const res = await h.register(lt, { over: { name: 'manager', requestedTtlSeconds: 120 } });

    const id = parseAgentSpiffeId(res.spiffeId);
    expect(id).toMatchObject({ trustDomain: 'baton.local', orchestration: 'orch-1', task: 'task-happy', instance: res.instanceId });
    expect(res.instanceId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(res.grantedTtlSeconds).toBe(120);
    expect(res.heartbeatIntervalSeconds).toBe(30);
    expect(res.supersededSpiffeId).toBe('');
    expect(res.scopes.map((s) => `${s.action}:${s.resource}`)).toEqual(['read:invoice', 'approve:invoice']);
    expect(Number(res.taskDeadline)).toBe(Math.floor(h.clock.now() / 1000) + 3600);

    const claims = decodeJws(res.accessToken).payload;
    expect(claims).toMatchObject({ sub: res.spiffeId, iid: res.instanceId, task_id: 'task-happy', orch_id: 'orch-1', wf: 'invoices', principal: 'user:vp@acme.example' });
    expect((claims.cnf as { jkt: string }).jkt).toBe(res.key.thumbprint);
    expect(claims.aud).toEqual(expect.arrayContaining(['payments', 'spiffe://baton.local/authority']));

    const intro = await h.issuerClient.introspect({ token: res.accessToken });
    expect(intro).toMatchObject({ active: true, sub: res.spiffeId, cnfJkt: res.key.thumbprint });

    const types = h.audit.filter((r) => r.source === 'identity').map((r) => r.type);
    expect(types).toEqual(['launch_token.created', 'launch_token.consumed', 'agent.registered']);
    // The agent can use its token at identity right away.
    const hb = await h.client.heartbeat({ state: 1 }, { metadata: h.dpop(res.key, res.accessToken, IdentityService.method.heartbeat) });
    expect(hb.nextIntervalSeconds).toBe(30);
  });

  it('grants requested scopes narrower than the launch-token ceiling', async () => {
    const lt = await h.launchToken({ taskId: 'task-narrow' });
    const res = await h.register(lt, { over: { requestedScopes: [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 100 } } }] } });
    expect(res.scopes).toHaveLength(1);
    expect(res.scopes[0]!.constraints.amount!.max).toBe(100);
  });

  // Every case must fail with its code and leave the launch token (and a fresh nonce) usable.
  const structural: [string, (lt: string) => Promise<Record<string, unknown>>, string][] = [
    ['a malformed public key (31 bytes)', async () => ({ publicKey: randomBytes(31) }), 'ERR_KEY_INVALID'],
    ['a malformed public key (33 bytes)', async () => ({ publicKey: randomBytes(33) }), 'ERR_KEY_INVALID'],
    ['a public key that is a small-order point', async () => ({ publicKey: Buffer.alloc(32) }), 'ERR_KEY_INVALID'],
    ['no public key', async () => ({ publicKey: new Uint8Array() }), 'ERR_KEY_INVALID'],
    ['a nonce of 31 bytes', async () => ({ nonce: randomBytes(31) }), 'ERR_NONCE_INVALID'],
    ['a signature of 63 bytes', async () => ({ signature: randomBytes(63) }), 'ERR_REGISTRATION_SIGNATURE_INVALID'],
    ['a malformed name (uppercase, space)', async () => ({ name: 'Bad Name' }), 'ERR_ID_INVALID'],
    ['an over-long name (65 chars)', async () => ({ name: 'a'.repeat(65) }), 'ERR_ID_INVALID'],
    ['a name with forbidden characters', async () => ({ name: 'mgr/../x' }), 'ERR_ID_INVALID'],
    ['a name of ..', async () => ({ name: '..' }), 'ERR_ID_INVALID'],
    ['a malformed requested scope', async () => ({ requestedScopes: [{ action: 'read invoice', resource: '' }] }), 'ERR_SCOPE_INVALID'],
  ];
  it.each(structural)('refuses %s without consuming anything', async (_n, over, code) => {
    const lt = await h.launchToken({ taskId: 'task-structural' });
    const nonce = await h.nonce();
    const { req } = await h.registerRequest(lt, { nonce, over: await over(lt) });
    expect(await codeOf(h.client.register(req))).toBe(code);
    // The same nonce still works too: nothing was consumed.
    await assertUnconsumedWithNonce(lt, nonce);
  });

  async function assertUnconsumedWithNonce(lt: string, nonce: Uint8Array): Promise<void> {
    const ok = await h.register(lt, { nonce });
    expect(ok.accessToken).not.toBe('');
    expect(await codeOf(h.register(lt))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
  }

  it.each([
    ['the wrong prefix', (lt: string) => `xlt_${lt.slice(4)}`],
    ['a truncated token', (lt: string) => lt.slice(0, -1)],
    ['an extended token', (lt: string) => `${lt}A`],
    ['a non-canonical base64url tail', (lt: string) => `${lt.slice(0, -1)}${lt.endsWith('B') ? 'C' : 'B'}`],
    ['an empty token', () => ''],
  ])('refuses a malformed launch token (%s) with ERR_LAUNCH_TOKEN_INVALID and consumes nothing', async (_n, mangle) => {
    const lt = await h.launchToken({ taskId: 'task-format' });
    const nonce = await h.nonce();
    const bad = mangle(lt);
    const { req } = await h.registerRequest(bad, { nonce });
    expect(await codeOf(h.client.register(req))).toBe('ERR_LAUNCH_TOKEN_INVALID');
    await assertUnconsumedWithNonce(lt, nonce);
  });

  describe('launch token state', () => {
    it('refuses an unknown (well-formed) launch token', async () => {
      const unknown = `blt_${randomBytes(32).toString('base64url')}`;
      expect(await codeOf(h.register(unknown))).toBe('ERR_LAUNCH_TOKEN_INVALID');
    });

    it('refuses an expired launch token (31 s) and does not consume the nonce', async () => {
      const lt = await h.launchToken({ taskId: 'task-expired' });
      h.clock.advance(31_000);
      const nonce = await h.nonce();
      expect(await codeOf(h.register(lt, { nonce }))).toBe('ERR_LAUNCH_TOKEN_EXPIRED');
      const fresh = await h.launchToken({ taskId: 'task-expired' });
      expect((await h.register(fresh, { nonce })).accessToken).not.toBe('');
    });

    it('denies a replay, records it as a security event and counts it', async () => {
      const lt = await h.launchToken({ taskId: 'task-replay' });
      await h.register(lt);
      const before = h.counts.replays;
      h.audit.length = 0;
      expect(await codeOf(h.register(lt))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
      expect(h.counts.replays).toBe(before + 1);
      const ev = h.audit.find((r) => r.type === 'launch_token.replayed');
      expect(ev).toMatchObject({ outcome: 'deny', reasonCode: 'ERR_LAUNCH_TOKEN_REPLAYED', task: 'task-replay', orchestration: 'orch-1', workflow: 'invoices' });
    });

    it('keeps reporting a replay after the launch token expired', async () => {
      const lt = await h.launchToken({ taskId: 'task-replay-late' });
      await h.register(lt);
      h.clock.advance(60_000);
      expect(await codeOf(h.register(lt))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
    });

    it('stores the launch token only as its SHA-256', async () => {
      const lt = await h.launchToken({ taskId: 'task-hash' });
      const rows = await h.db.all<Record<string, unknown>>('SELECT * FROM identity_launch_tokens');
      expect(JSON.stringify(rows)).not.toContain(lt.slice(4));
      expect(rows.some((r) => r.hash === sha256(lt).toString('hex'))).toBe(true);
    });
  });

  describe('nonce state', () => {
    it('refuses an unknown nonce without consuming the launch token', async () => {
      const lt = await h.launchToken({ taskId: 'task-nonce-unknown' });
      expect(await codeOf(h.register(lt, { nonce: randomBytes(32) }))).toBe('ERR_NONCE_INVALID');
      await assertUnconsumed(lt);
    });

    it('refuses an expired nonce without consuming the launch token', async () => {
      const nonce = await h.nonce();
      h.clock.advance(31_000);
      const lt = await h.launchToken({ taskId: 'task-nonce-expired' });
      expect(await codeOf(h.register(lt, { nonce }))).toBe('ERR_NONCE_EXPIRED');
      await assertUnconsumed(lt);
    });

    it('refuses a replayed nonce without consuming the second launch token', async () => {
      const nonce = await h.nonce();
      await h.register(await h.launchToken({ taskId: 'task-nonce-replay' }), { nonce });
      const lt = await h.launchToken({ taskId: 'task-nonce-replay-2' });
      expect(await codeOf(h.register(lt, { nonce }))).toBe('ERR_NONCE_REPLAYED');
      await assertUnconsumed(lt);
    });
  });

  describe('registration signature', () => {
    const forged: [string, (lt: string, nonce: Uint8Array, pub: Buffer) => Buffer][] = [
      ['by a different key', (lt, nonce, pub) => signBytes(registrationMessage(nonce, lt, pub), generateKeyPair().privateKey)],
      [
        'over the hex text instead of the bytes',
        (lt, nonce, pub) => {
          const text = `baton-register-v1\n${Buffer.from(nonce).toString('hex')}${sha256(lt).toString('hex')}${pub.toString('hex')}`;
          return signBytes(Buffer.from(text, 'utf8'), keyFor(pub).privateKey);
        },
      ],
      ['over the message without the context prefix', (lt, nonce, pub) => signBytes(registrationMessage(nonce, lt, pub).subarray(18), keyFor(pub).privateKey)],
      ['over another nonce', (lt, _nonce, pub) => signBytes(registrationMessage(randomBytes(32), lt, pub), keyFor(pub).privateKey)],
      ['over another launch token', (_lt, nonce, pub) => signBytes(registrationMessage(nonce, 'blt_other', pub), keyFor(pub).privateKey)],
      ['of random bytes', () => randomBytes(64)],
    ];
    const keys = new Map<string, ReturnType<typeof generateKeyPair>>();
    const keyFor = (pub: Buffer) => keys.get(pub.toString('hex'))!;

    it.each(forged)('refuses a signature %s without consuming anything', async (_n, sign) => {
      const lt = await h.launchToken({ taskId: 'task-sig' });
      const nonce = await h.nonce();
      const key = generateKeyPair();
      keys.set(key.rawPublicKey.toString('hex'), key);
      const { req } = await h.registerRequest(lt, { key, nonce, over: { signature: sign(lt, nonce, key.rawPublicKey) } });
      expect(await codeOf(h.client.register(req))).toBe('ERR_REGISTRATION_SIGNATURE_INVALID');
      await assertUnconsumedWithNonce(lt, nonce);
    });
  });

  it('refuses requested scopes above the launch-token ceiling without consuming anything', async () => {
    const lt = await h.launchToken({ taskId: 'task-escalate', scopes: [{ action: 'read', resource: 'invoice' }] });
    const nonce = await h.nonce();
    for (const scope of [
      { action: 'approve', resource: 'invoice' },
      { action: 'read', resource: '*' },
      { action: '*', resource: 'invoice' },
    ]) {
      const { req } = await h.registerRequest(lt, { nonce, over: { requestedScopes: [scope] } });
      expect(await codeOf(h.client.register(req))).toBe('ERR_SCOPE_ESCALATION');
    }
    await assertUnconsumedWithNonce(lt, nonce);
  });

  it('refuses a widened constraint (max 5000 → 50000) as an escalation', async () => {
    const lt = await h.launchToken({ taskId: 'task-widen' });
    const code = await codeOf(h.register(lt, { over: { requestedScopes: [{ action: 'approve', resource: 'invoice', constraints: { amount: { max: 50000 } } }] } }));
    expect(code).toBe('ERR_SCOPE_ESCALATION');
    await assertUnconsumed(lt);
  });
});
