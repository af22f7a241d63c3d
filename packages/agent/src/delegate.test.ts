import { describe, expect, it } from 'vitest';
import {
  BatonError,
  ReplayCache,
  agentSpiffeId,
  decodeHop,
  generateKeyPair,
  manualClock,
  sha256B64url,
  signJws,
  verifyJws,
  verifyProof,
  importPublicJwk,
  type Scope,
} from '@baton/core';
import type { Client } from '@baton/proto';
import type { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { AgentKey } from './agent-key.js';
import { DelegatedToken, delegateFrom, type AdoptArgs } from './delegate.js';

const NOW = 1_750_000_000;
const clock = manualClock(NOW * 1000);
const authority = generateKeyPair();
const me = AgentKey.generate();
const ME = agentSpiffeId('baton.local', 'orch-1', 'manager', 'MMMMMMMMMMMMMMMMMMMMMM');
const INTERN = agentSpiffeId('baton.local', 'orch-1', 'intern', 'IIIIIIIIIIIIIIIIIIIIII');
const internKey = generateKeyPair();
const APPROVE: Scope = { action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } };

function token(over: Record<string, unknown> = {}): string {
  return signJws(
    { typ: 'at+jwt', kid: authority.thumbprint },
    {
      iss: 'spiffe://baton.local/authority',
      sub: ME,
      aud: ['payments'],
      exp: NOW + 300,
      iat: NOW,
      nbf: NOW,
      jti: 'JJJJJJJJJJJJJJJJJJJJJJ',
      scope: 'approve:payments',
      scopes: [APPROVE],
      task_id: 'manager',
      orch_id: 'orch-1',
      wf: 'expense-approval',
      principal: 'user:vp@acme.example',
      iid: 'MMMMMMMMMMMMMMMMMMMMMM',
      tdl: NOW + 3600,
      rnw: 0,
      cnf: { jkt: me.thumbprint },
      ...over,
    },
    authority.privateKey,
  );
}

/** A DelegationService client that records the hop it was sent. */
function fakeClient(answer: (hop: string) => Promise<Record<string, unknown>> = async () => ({})) {
  const sent: string[] = [];
  const client = {
    delegate: async ({ hop }: { hop: string }) => {
      sent.push(hop);
      return { accessToken: 'child', chainHash: 'CH', depth: 1, expiresAt: BigInt(NOW + 100), grantedTtlSeconds: 100, hopHash: sha256B64url(hop), ...(await answer(hop)) };
    },
  } as unknown as Client<typeof DelegationService>;
  return { client, sent };
}

const to = { spiffeId: INTERN, publicKey: internKey.publicJwk };

describe('delegateFrom', () => {
  it('signs a hop from a root token with the agent key: delegatee, its key, scopes, expiry, link and root facts', async () => {
    const { client, sent } = fakeClient();
    const t = token();
    const grant = await delegateFrom({ key: me, token: t, client, clock, rpcTimeoutMs: 1000 }, to, [APPROVE], { ttl: 120 });
    expect(grant).toMatchObject({ token: 'child', delegatee: INTERN, depth: 1, chainHash: 'CH', expiresAt: (NOW + 100) * 1000, grantedTtlSeconds: 100 });
    const hop = decodeHop(sent[0]);
    expect(hop.kid).toBe(me.thumbprint);
    expect(verifyJws(hop, importPublicJwk(me.publicJwk))).toBe(true);
    expect(hop.claims).toEqual({
      iss: ME,
      sub: INTERN,
      k: internKey.publicJwk.x,
      scp: [['approve:payments', { max_amount: { max: 10000 } }]],
      exp: NOW + 120,
      prv: sha256B64url(t),
      dep: 1,
      pri: 'user:vp@acme.example',
      tsk: 'orch-1/manager',
      rt: { jti: 'JJJJJJJJJJJJJJJJJJJJJJ', k: me.publicJwk.x, scp: [['approve:payments', { max_amount: { max: 10000 } }]], exp: NOW + 300 },
    });
  });

  it('never asks for longer than its own token lives, and accepts the key as its x', async () => {
    const { client, sent } = fakeClient();
    await delegateFrom({ key: me, token: token(), client, clock, rpcTimeoutMs: 1000 }, { spiffeId: INTERN, publicKey: internKey.publicJwk.x }, ['approve:payments'], { ttl: 86_400 });
    expect(decodeHop(sent[0]).claims.exp).toBe(NOW + 300);
  });

  it('links a hop from a delegated token to its chain hash, one level deeper, under the root task', async () => {
    const { client, sent } = fakeClient();
    const ch = sha256B64url('chain');
    const t = token({ sub: INTERN, cnf: { jkt: me.thumbprint }, del: { ch, d: 2, root: {} }, act: { sub: 'spiffe://baton.local/agent/orch-1/clerk/CCCCCCCCCCCCCCCCCCCCCC', act: { sub: ME } } });
    const exec = agentSpiffeId('baton.local', 'orch-1', 'executor', 'EEEEEEEEEEEEEEEEEEEEEE');
    await delegateFrom({ key: me, token: t, client, clock, rpcTimeoutMs: 1000 }, { spiffeId: exec, publicKey: generateKeyPair().publicJwk }, [APPROVE]);
    const c = decodeHop(sent[0]).claims;
    expect(c).toMatchObject({ iss: INTERN, sub: exec, prv: ch, dep: 3, tsk: 'orch-1/manager' });
    expect(c.rt).toBeUndefined();
  });

  it('passes the service refusal through (the attempt is audited there, not pre-empted here)', async () => {
    const { client, sent } = fakeClient(async () => {
      throw new BatonError('ERR_SCOPE_ESCALATION', 'hop 1 widened max_amount 10000 → 50000');
    });
    const wider = { ...APPROVE, constraints: { max_amount: { max: 50000 } } };
    await expect(delegateFrom({ key: me, token: token(), client, clock, rpcTimeoutMs: 1000 }, to, [wider])).rejects.toMatchObject({ code: 'ERR_SCOPE_ESCALATION' });
    expect(sent).toHaveLength(1);
  });

  it.each<[string, unknown, unknown, unknown]>([
    ['no target', undefined, [APPROVE], {}],
    ['a target that is not a SPIFFE id', { spiffeId: 'intern', publicKey: internKey.publicJwk }, [APPROVE], {}],
    ['a private key as the target key', { spiffeId: INTERN, publicKey: { ...internKey.publicJwk, d: 'x' } }, [APPROVE], {}],
    ['no scopes', to, [], {}],
    ['a malformed scope', to, ['approve'], {}],
    ['a zero ttl', to, [APPROVE], { ttl: 0 }],
    ['a fractional ttl', to, [APPROVE], { ttl: 1.5 }],
  ])('treats %s as a programming mistake (TypeError), before any call', async (_name, target, scopes, opts) => {
    const { client, sent } = fakeClient();
    await expect(delegateFrom({ key: me, token: token(), client, clock, rpcTimeoutMs: 1000 }, target as never, scopes as never, opts as never)).rejects.toThrow(TypeError);
    expect(sent).toHaveLength(0);
  });
});

describe('DelegatedToken (the delegatee side)', () => {
  const delegated = (over: Record<string, unknown> = {}) => token({ sub: INTERN, cnf: { jkt: me.thumbprint }, del: { ch: sha256B64url('c'), d: 1, root: {} }, act: { sub: ME }, ...over });
  const args = (over: Partial<AdoptArgs> = {}): AdoptArgs => ({
    key: me,
    spiffeId: INTERN,
    clock,
    rpcTimeoutMs: 1000,
    delegationTarget: 'localhost:1',
    open: () => {
      throw new Error('not used');
    },
    ...over,
  });

  it('adopts a child token for this agent and makes proofs for it with the agent key', () => {
    const t = delegated();
    const d = new DelegatedToken(t, args());
    expect([d.depth, d.principal, d.expiresAt]).toEqual([1, 'user:vp@acme.example', (NOW + 300) * 1000]);
    expect(d.scopes).toEqual([APPROVE]);
    const md = d.callMetadata('/test.v1.Payments/Approve');
    expect(md.authorization).toBe(`DPoP ${t}`);
    const proof = verifyProof(md.dpop, { htm: 'POST', htu: '/test.v1.Payments/Approve', nowMs: clock.now(), expectedJkt: me.thumbprint, accessTokenHash: sha256B64url(t), replayCache: new ReplayCache() });
    expect(proof.jkt).toBe(me.thumbprint);
    expect(JSON.stringify(d)).not.toContain(t);
  });

  it.each<[string, () => unknown, string]>([
    ['a token for another agent', () => new DelegatedToken(delegated({ sub: ME }), args()), 'ERR_TOKEN_CLAIMS_INVALID'],
    ['a token bound to another key', () => new DelegatedToken(delegated({ cnf: { jkt: internKey.thumbprint } }), args()), 'ERR_CHAIN_KEY_MISMATCH'],
    ['a token that is not delegated', () => new DelegatedToken(token({ sub: INTERN }), args()), 'ERR_CHAIN_INVALID'],
    ['an expired token', () => new DelegatedToken(delegated({ exp: NOW - 1, iat: NOW - 10, nbf: NOW - 10 }), args()), 'ERR_TOKEN_EXPIRED'],
    ['garbage', () => new DelegatedToken('x.y.z', args()), 'ERR_TOKEN_MALFORMED'],
  ])('refuses %s', (_name, f, code) => {
    expect(f).toThrow(expect.objectContaining({ code }));
  });

  it('stops handing out the token once it expired', () => {
    const c = manualClock(NOW * 1000);
    const d = new DelegatedToken(delegated(), args({ clock: c }));
    c.set((NOW + 300) * 1000);
    expect(() => d.token()).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_EXPIRED' }));
  });
});
