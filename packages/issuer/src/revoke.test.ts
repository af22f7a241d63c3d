import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  IssuerService,
  RevocationLevel as L,
  RevocationReason as R,
  RevokeRequestSchema,
  RotateKeysRequestSchema,
} from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { sha256B64url, type ErrorCode, type KeyPair } from '@baton/core';
import { hopHash } from './delegation-claims.js';
import { codeOf, ISSUER, startHarness, STORES, type Harness } from './testing/harness.js';
import { countRevocations } from './revocation-repo.js';
import { countTokens } from './token-repo.js';

type RevokeInit = MessageInitShape<typeof RevokeRequestSchema>;

describe.each(STORES)('Revoke and RotateKeys over gRPC (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, 'revoke');
  });
  afterAll(async () => h?.close());

  const revoke = (req: RevokeInit, as: KeyPair = h.operator) =>
    h.client.revoke(req, { metadata: h.keyProof(as, IssuerService.method.revoke, RevokeRequestSchema, req) });
  const rotate = (emergency: boolean, as: KeyPair = h.operator) =>
    h.client.rotateKeys({ emergency }, { metadata: h.keyProof(as, IssuerService.method.rotateKeys, RotateKeysRequestSchema, { emergency }) });
  const state = async (token: string) => {
    const r = await h.client.introspect({ token });
    return r.active ? 'active' : r.inactiveCode;
  };

  it('revokes at every level, only what the target covers, until everything covered expired', async () => {
    const a = h.newAgent('task-a');
    const b = h.newAgent('task-b');
    const hop = 'aGRy.aG9w.c2ln';
    const delegated = h.newAgent('task-c');
    const levels: [string, () => Promise<{ victim: string; bystander: string; req: RevokeInit; exp: bigint }>][] = [
      [
        'token',
        async () => {
          const v = await h.issue(a, { requestedTtlSeconds: 200 });
          const s = await h.issue(a);
          return { victim: v.accessToken, bystander: s.accessToken, req: { level: L.TOKEN, target: v.jti, reason: R.MANUAL }, exp: v.expiresAt };
        },
      ],
      [
        'agent',
        async () => {
          const c = h.newAgent('task-a');
          const v = await h.issue(c, { requestedTtlSeconds: 250 });
          const s = await h.issue(b);
          return { victim: v.accessToken, bystander: s.accessToken, req: { level: L.AGENT, target: c.sub, reason: R.ANOMALY }, exp: v.expiresAt };
        },
      ],
      [
        'task',
        async () => {
          const v = await h.issue(h.newAgent('task-t'), { requestedTtlSeconds: 260 });
          const s = await h.issue(h.newAgent('task-x'));
          return { victim: v.accessToken, bystander: s.accessToken, req: { level: L.TASK, target: 'orch-1/task-t', reason: R.MANUAL }, exp: v.expiresAt };
        },
      ],
      [
        'workflow',
        async () => {
          const v = await h.issue(h.newAgent('task-y'), { workflowId: 'payroll', requestedTtlSeconds: 270 });
          const s = await h.issue(h.newAgent('task-y'));
          return { victim: v.accessToken, bystander: s.accessToken, req: { level: L.WORKFLOW, target: 'payroll', reason: R.MANUAL }, exp: v.expiresAt };
        },
      ],
      [
        'hop',
        async () => {
          const delegation = { hops: [hop], chainHash: sha256B64url('c'), depth: 1, actors: [a.sub], rootTokenHash: sha256B64url('r'), rootJti: 'FFFFFFFFFFFFFFFFFFFFFF' };
          const v = await h.issue(delegated, { delegation, requestedTtlSeconds: 280 }, h.delegation);
          const s = await h.issue(delegated);
          return { victim: v.accessToken, bystander: s.accessToken, req: { level: L.HOP, target: hopHash(hop), reason: R.MANUAL }, exp: v.expiresAt };
        },
      ],
    ];
    for (const [name, setup] of levels) {
      const { victim, bystander, req, exp } = await setup();
      const res = await revoke({ ...req, note: `test ${name}` });
      expect(res.expiresAt, name).toBe(exp + 30n);
      expect(await state(victim), name).toBe('ERR_TOKEN_REVOKED');
      expect(await state(bystander), name).toBe('active');
      const rec = h.audit.find((e) => e.type === 'token.revoked' && e.reasonDetail?.endsWith(`sequence ${res.sequence}`));
      expect(rec, name).toMatchObject({ action: 'revoke', resource: `revocation:${name}`, attributes: { revocation_kind: name, note: `test ${name}` } });
      expect(rec?.reasonDetail, name).toContain('operator:alice');
      expect(rec?.reasonDetail, name).toContain(req.target);
      h.clock.advance(1000); // later tokens are not covered (not_after_iat)
    }
    const later = await h.issue(a);
    expect(await state(later.accessToken)).toBe('active');
  });

  it('refuses to sign a delegated token over a revoked hop, root token or delegator', async () => {
    const root = h.newAgent('task-d');
    const holder = h.newAgent('task-d');
    const rootToken = await h.issue(root);
    const material = (hop: string, rootJti = rootToken.jti) => ({
      hops: [hop],
      chainHash: sha256B64url(hop),
      depth: 1,
      actors: [root.sub],
      rootTokenHash: sha256B64url(rootToken.accessToken),
      rootJti,
    });
    expect((await h.issue(holder, { delegation: material('aGRy.b2s.c2ln') }, h.delegation)).jti).toBeTruthy();
    await revoke({ level: L.HOP, target: hopHash('aGRy.ZGVhZA.c2ln'), reason: R.MANUAL });
    expect(await codeOf(h.issue(holder, { delegation: material('aGRy.ZGVhZA.c2ln') }, h.delegation))).toBe('ERR_CHAIN_REVOKED');
    await revoke({ level: L.TOKEN, target: rootToken.jti, reason: R.MANUAL });
    expect(await codeOf(h.issue(holder, { delegation: material('aGRy.b2sy.c2ln') }, h.delegation))).toBe('ERR_CHAIN_REVOKED');
    await revoke({ level: L.AGENT, target: root.sub, reason: R.ANOMALY });
    expect(await codeOf(h.issue(holder, { delegation: material('aGRy.b2sz.c2ln', 'GGGGGGGGGGGGGGGGGGGGGG') }, h.delegation))).toBe('ERR_CHAIN_REVOKED');
  });

  it('lets identity revoke an agent as superseded or for heartbeats, and nothing else', async () => {
    const a = h.newAgent();
    const t = await h.issue(a);
    expect(await codeOf(revoke({ level: L.TASK, target: 'orch-1/task-1', reason: R.SUPERSEDED }, h.identity))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(revoke({ level: L.AGENT, target: a.sub, reason: R.MANUAL }, h.identity))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(revoke({ level: L.AGENT, target: a.sub, reason: R.SUPERSEDED }, h.delegation))).toBe('ERR_PERMISSION_DENIED');
    await revoke({ level: L.AGENT, target: a.sub, reason: R.SUPERSEDED }, h.identity);
    expect(await state(t.accessToken)).toBe('ERR_TOKEN_REVOKED');
    const h2 = h.newAgent();
    await h.issue(h2);
    expect((await revoke({ level: L.AGENT, target: h2.sub, reason: R.HEARTBEAT }, h.identity)).sequence).toBeGreaterThan(0n);
  });

  it('refuses agents, strangers and unknown keys', async () => {
    const a = h.newAgent();
    const other = h.newAgent();
    const t = await h.issue(a);
    await h.issue(other);
    const req: RevokeInit = { level: L.AGENT, target: other.sub, reason: R.MANUAL };
    // An agent with its own DPoP credentials.
    expect(await codeOf(h.client.revoke(req, { metadata: h.dpop(a, t.accessToken, IssuerService.method.revoke) }))).toBe('ERR_PERMISSION_DENIED');
    // An agent signing a key proof with its own key.
    expect(await codeOf(revoke(req, a.key))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(revoke(req, h.stranger))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(h.client.revoke(req))).toBe('ERR_PROOF_MISSING');
    expect(await codeOf(rotate(false, h.identity))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(rotate(true, a.key))).toBe('ERR_PERMISSION_DENIED');
    expect(await state(t.accessToken)).toBe('active');
  });

  it('validates the target for its level, and the level and reason', async () => {
    const cases: [string, RevokeInit, ErrorCode][] = [
      ['no level', { level: L.UNSPECIFIED, target: 'x', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['unknown level', { level: 42 as L, target: 'x', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['no reason', { level: L.WORKFLOW, target: 'invoices', reason: R.UNSPECIFIED }, 'ERR_INVALID_ARGUMENT'],
      ['released is the issuer’s', { level: L.WORKFLOW, target: 'invoices', reason: R.RELEASED }, 'ERR_INVALID_ARGUMENT'],
      ['renewed is the issuer’s', { level: L.TOKEN, target: 'A'.repeat(22), reason: R.RENEWED }, 'ERR_INVALID_ARGUMENT'],
      ['empty target', { level: L.TOKEN, target: '', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['short jti', { level: L.TOKEN, target: 'abc', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['jti with SQL', { level: L.TOKEN, target: "AAAAAAAAAAAAAAAAAAAAAA' OR 1=1 --", reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['agent not SPIFFE', { level: L.AGENT, target: 'bob', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['agent in another trust domain', { level: L.AGENT, target: 'spiffe://evil.example/agent/o/t/AAAAAAAAAAAAAAAAAAAAAA', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['agent path too short', { level: L.AGENT, target: 'spiffe://baton.local/agent/o/t', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['task without slash', { level: L.TASK, target: 'task-1', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['task with dot-dot', { level: L.TASK, target: 'orch-1/..', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['task with three parts', { level: L.TASK, target: 'a/b/c', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['workflow uppercase', { level: L.WORKFLOW, target: 'Payroll', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['hop not a hash', { level: L.HOP, target: 'a.b.c', reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['key not a thumbprint', { level: L.KEY, target: 'key-1', reason: R.KEY_COMPROMISE }, 'ERR_INVALID_ARGUMENT'],
      ['oversized target', { level: L.WORKFLOW, target: 'a'.repeat(5000), reason: R.MANUAL }, 'ERR_INVALID_ARGUMENT'],
      ['note with control characters', { level: L.WORKFLOW, target: 'invoices', reason: R.MANUAL, note: 'a\u0000b' }, 'ERR_INVALID_ARGUMENT'],
    ];
    const before = await countRevocations(h.db);
    for (const [name, req, code] of cases) expect(await codeOf(revoke(req)), name).toBe(code);
    expect(await countRevocations(h.db)).toBe(before);
  });

  it('rotates keys: retired keys keep verifying until their tokens expire, then leave the JWKS', async () => {
    const a = h.newAgent();
    const old = await h.issue(a, { requestedTtlSeconds: 120 });
    const oldKid = h.keyRing.activeKid;
    const r = await rotate(false);
    expect(r).toMatchObject({ retiredKid: oldKid, sequence: 0n });
    expect(r.newKid).not.toBe(oldKid);
    expect(h.keyRing.activeKid).toBe(r.newKid);
    const fresh = await h.issue(a);
    const keys = await h.client.getKeys({});
    const jwks = createLocalJWKSet(JSON.parse(keys.jwks) as never);
    for (const t of [old, fresh]) {
      await expect(jwtVerify(t.accessToken, jwks, { issuer: ISSUER, audience: 'payments', currentDate: new Date(h.clock.now()) })).resolves.toBeDefined();
    }
    expect(keys.revokedKids).toEqual([]);
    expect(await state(old.accessToken)).toBe('active');
    expect(h.audit.find((e) => e.type === 'key.rotated' && e.attributes?.kid === r.newKid)).toMatchObject({
      attributes: { key_kind: 'scheduled' },
      reasonDetail: expect.stringContaining(oldKid),
    });

    // Published until the last token of the old kid is past exp + leeway, then dropped.
    const lastExp = h.keyRing.list().find((k) => k.kid === oldKid)!.maxExp;
    expect(lastExp).toBeGreaterThanOrEqual(Number(old.expiresAt));
    const published = async () => (JSON.parse((await h.client.getKeys({})).jwks) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    h.clock.set((lastExp + 30) * 1000);
    await h.issuer.prune();
    expect(await published()).toContain(oldKid);
    h.clock.set((lastExp + 31) * 1000);
    await h.issuer.prune();
    expect(await published()).not.toContain(oldKid);
    expect(await published()).toContain(r.newKid);
  });

  it('emergency rotation kills every token of the old kid at once, through GetKeys and the feed', async () => {
    const a = h.newAgent();
    const old = await h.issue(a);
    const oldKid = h.keyRing.activeKid;
    const r = await rotate(true);
    expect(r.retiredKid).toBe(oldKid);
    expect(r.sequence).toBeGreaterThan(0n);
    expect(await state(old.accessToken)).toBe('ERR_TOKEN_KEY_REVOKED');
    expect(await codeOf(h.client.renew({}, { metadata: h.dpop(a, old.accessToken, IssuerService.method.renew) }))).toBe('ERR_TOKEN_KEY_REVOKED');
    const keys = await h.client.getKeys({});
    expect(keys.revokedKids).toEqual([oldKid]);
    const kids = (JSON.parse(keys.jwks) as { keys: { kid: string }[] }).keys.map((k) => k.kid);
    expect(kids[0]).toBe(r.newKid);
    expect(kids).not.toContain(oldKid);
    // The KEY entry is in the feed.
    const ac = new AbortController();
    let entry;
    for await (const m of h.client.watchRevocations({ fromSequence: r.sequence - 1n }, { signal: ac.signal })) {
      if (m.event.case === 'entry') {
        entry = m.event.value;
        ac.abort();
        break;
      }
    }
    expect(entry).toMatchObject({ sequence: r.sequence, level: L.KEY, target: oldKid, reason: R.KEY_COMPROMISE });
    // New tokens are fine.
    expect(await state((await h.issue(a)).accessToken)).toBe('active');
  });

  it('revoking the active kid through Revoke is an emergency rotation', async () => {
    const a = h.newAgent();
    const t = await h.issue(a);
    const kid = h.keyRing.activeKid;
    await revoke({ level: L.KEY, target: kid, reason: R.KEY_COMPROMISE });
    expect(h.keyRing.activeKid).not.toBe(kid);
    expect(await state(t.accessToken)).toBe('ERR_TOKEN_KEY_REVOKED');
  });

  it('prunes entries and token rows once everything they cover expired (storage stays flat)', async () => {
    h.clock.advance(4000_000); // every token so far has expired
    await h.issuer.prune();
    expect(await countTokens(h.db)).toBe(0);
    expect(await countRevocations(h.db)).toBe(0);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 10; i++) {
        const a = h.newAgent(`churn-${i}`);
        await h.issue(a, { requestedTtlSeconds: 60 });
        await revoke({ level: L.AGENT, target: a.sub, reason: R.MANUAL });
      }
      expect(await countTokens(h.db)).toBe(10);
      expect(await countRevocations(h.db)).toBe(10);
      h.clock.advance(91_000);
      const p = await h.issuer.prune();
      expect(p).toMatchObject({ tokens: 10, revocations: 10 });
      expect(await countTokens(h.db)).toBe(0);
      expect(await countRevocations(h.db)).toBe(0);
    }
  });
});
