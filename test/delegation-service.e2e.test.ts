/**
 * DelegationService over real gRPC (issue 3, item 2 and "Bad input and attacks"): who
 * delegates, to whom, what, for how long; policy; the hop record; GetChain and Verify;
 * HOP- and AGENT-level revocation at a resource; by-reference chains. Delegators here are
 * raw key holders so the tests can sign what an honest SDK never would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  agentSpiffeId,
  decodeHop,
  decodeJws,
  generateKeyPair,
  nextHopClaims,
  parseAccessTokenClaims,
  randomId,
  sha256B64url,
  signHop,
  type HopClaims,
  type KeyPair,
  type Scope,
} from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import { RevocationLevel } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { approve, codeOf, ORCH, PRINCIPAL, startHarness, TD, until, type Harness, type RawAgent } from './src/delegation-harness.js';

const DELEGATE = '/baton.delegation.v1.DelegationService/Delegate';

interface Target {
  readonly spiffeId: string;
  readonly key: KeyPair;
}

interface HopOptions {
  readonly exp?: number;
  readonly edit?: (c: HopClaims) => HopClaims;
  readonly signer?: KeyPair;
}

/** The hop `from` (holding `token`) signs to delegate `scopes` to `to`. */
function hop(from: RawAgent, token: string, to: Target, scopes: readonly Scope[], o: HopOptions = {}): string {
  const claims = parseAccessTokenClaims(decodeJws(token).payload);
  let c = nextHopClaims({ token, claims, holderKey: from.key.publicJwk.x, to: to.spiffeId, toKey: to.key.publicJwk.x, scopes, exp: o.exp ?? claims.exp });
  if (o.edit) c = o.edit(c);
  return signHop(c, o.signer ?? from.key);
}

/** Calls Delegate as `from` with `token` and a fresh proof by `proofKey` (default its own key). */
function delegate(h: Harness, from: RawAgent, token: string, compactHop: string, proofKey = from.key) {
  return h.delegationClient.delegate({ hop: compactHop }, { metadata: dpopMetadata(proofKey, token, DELEGATE, h.clock.now()) });
}

/** `from` delegates to `to`; returns `to` holding the child token. */
async function pass(h: Harness, from: RawAgent, token: string, to: RawAgent, scopes: readonly Scope[]): Promise<{ token: string; chainHash: string; hopHash: string }> {
  const res = await delegate(h, from, token, hop(from, token, to, scopes));
  return { token: res.accessToken, chainHash: res.chainHash, hopHash: res.hopHash };
}

describe('DelegationService.Delegate', () => {
  let h: Harness;
  let manager: RawAgent;
  let intern: RawAgent;
  let executor: RawAgent;
  const T = (task: string) => `${task}-${randomId(8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;

  beforeAll(async () => {
    h = await startHarness();
    manager = await h.raw(T('approve'), { scopes: [approve(10000)], name: 'manager' });
    intern = await h.raw(T('review'), { scopes: ['read:invoices'], name: 'intern' });
    executor = await h.raw(T('pay'), { scopes: ['read:invoices'], name: 'executor' });
  }, 30_000);
  afterAll(async () => h?.close());

  it('grants a child token bound to the delegatee, records the hop and serves the chain', async () => {
    const compact = hop(manager, manager.token, intern, [approve(8000)]);
    const res = await delegate(h, manager, manager.token, compact);
    expect(res.depth).toBe(1);
    expect(res.hopHash).toBe(sha256B64url(compact));
    const child = parseAccessTokenClaims(decodeJws(res.accessToken).payload);
    expect(child).toMatchObject({ sub: intern.spiffeId, principal: PRINCIPAL, cnf: { jkt: intern.key.thumbprint }, act: { sub: manager.spiffeId }, wf: 'expense-approval' });
    expect(child.del).toMatchObject({ ch: res.chainHash, d: 1, root: { th: sha256B64url(manager.token) } });
    expect(child.exp).toBeLessThanOrEqual(parseAccessTokenClaims(decodeJws(manager.token).payload).exp);
    const chain = await h.delegationClient.getChain({ chainHash: res.chainHash });
    expect(chain).toMatchObject({ hops: [compact], chainHash: res.chainHash, rootTokenHash: sha256B64url(manager.token) });
    // The intern uses it with its own key at the payments server.
    expect((await h.paymentsAs(intern.key, res.accessToken).approve(7000)).depth).toBe(1);
    // Nobody else can: the token is bound to the intern's key.
    expect(await codeOf(h.paymentsAs(executor.key, res.accessToken).approve(7000))).toBe('ERR_PROOF_KEY_MISMATCH');
  });

  describe('who delegates, and to whom', () => {
    it.each<[string, () => Promise<unknown>, string]>([
      ['a delegatee that is not registered', () => delegate(h, manager, manager.token, hop(manager, manager.token, { spiffeId: agentSpiffeId(TD, ORCH, 'ghost', randomId(16)), key: generateKeyPair() }, [approve(100)])), 'ERR_DELEGATEE_UNKNOWN'],
      ['a hop binding a key other than the delegatee’s registered one', () => delegate(h, manager, manager.token, hop(manager, manager.token, { spiffeId: intern.spiffeId, key: generateKeyPair() }, [approve(100)])), 'ERR_CHAIN_KEY_MISMATCH'],
      ['self-delegation used to escape a TTL', () => delegate(h, manager, manager.token, hop(manager, manager.token, manager, [approve(100)], { exp: Math.floor(h.clock.now() / 1000) + 3600 })), 'ERR_SELF_DELEGATION'],
      ['self-delegation within the TTL', () => delegate(h, manager, manager.token, hop(manager, manager.token, manager, [approve(100)])), 'ERR_SELF_DELEGATION'],
      ['no credentials', () => h.delegationClient.delegate({ hop: hop(manager, manager.token, intern, [approve(100)]) }), 'ERR_TOKEN_MISSING'],
      ['a proof by a key other than the token’s', () => delegate(h, manager, manager.token, hop(manager, manager.token, intern, [approve(100)]), generateKeyPair()), 'ERR_PROOF_KEY_MISMATCH'],
      ['a token presented by the wrong caller', () => delegate(h, intern, manager.token, hop(manager, manager.token, executor, [approve(100)]), intern.key), 'ERR_PROOF_KEY_MISMATCH'],
    ])('refuses %s', async (_name, call, expected) => {
      expect(await codeOf(call())).toBe(expected);
    });

    it('refuses a delegatee that is no longer live (superseded by a re-registration)', async () => {
      const task = T('redo');
      const old = await h.raw(task, { scopes: ['read:invoices'], name: 'worker' });
      await h.raw(task, { scopes: ['read:invoices'], name: 'worker' });
      expect(await codeOf(delegate(h, manager, manager.token, hop(manager, manager.token, old, [approve(100)])))).toBe('ERR_DELEGATEE_UNKNOWN');
    });

    it('refuses a delegatee outside the orchestration unless policy allows it', async () => {
      const partner = await h.raw(T('partner'), { scopes: ['read:invoices'], orchestrator: 'other' });
      expect(await codeOf(delegate(h, manager, manager.token, hop(manager, manager.token, partner, [approve(100)])))).toBe('ERR_DELEGATION_TARGET_NOT_ALLOWED');
    });

    it('refuses delegating with a released token', async () => {
      const a = await h.raw(T('released'), { scopes: [approve(500)] });
      await h.issuerClient.release({ reason: 'done' }, { metadata: dpopMetadata(a.key, a.token, '/baton.issuer.v1.IssuerService/Release', h.clock.now()) });
      expect(await codeOf(delegate(h, a, a.token, hop(a, a.token, intern, [approve(100)])))).toBe('ERR_TOKEN_RELEASED');
    });

    it('refuses delegating with a revoked token', async () => {
      const a = await h.raw(T('revoked'), { scopes: [approve(500)] });
      await h.revoke(RevocationLevel.TOKEN, parseAccessTokenClaims(decodeJws(a.token).payload).jti);
      expect(await codeOf(delegate(h, a, a.token, hop(a, a.token, intern, [approve(100)])))).toBe('ERR_TOKEN_REVOKED');
    });
  });

  describe('what, and for how long', () => {
    const bad: [string, (m: RawAgent) => string, string][] = [
      ['max raised', (m) => hop(m, m.token, intern, [approve(50000)]), 'ERR_SCOPE_ESCALATION'],
      ['a constraint dropped', (m) => hop(m, m.token, intern, [{ action: 'approve', resource: 'payments' }]), 'ERR_SCOPE_ESCALATION'],
      ['an escalated action', (m) => hop(m, m.token, intern, [{ action: 'refund', resource: 'payments', constraints: { max_amount: { max: 1 } } }]), 'ERR_SCOPE_ESCALATION'],
      ['root facts wider than the token', (m) => hop(m, m.token, intern, [approve(100)], { edit: (c) => ({ ...c, rt: { ...c.rt!, scp: ['approve:payments'] } }) }), 'ERR_SCOPE_ESCALATION'],
      ['a longer expiry than the delegator’s', (m) => hop(m, m.token, intern, [approve(100)], { exp: parseAccessTokenClaims(decodeJws(m.token).payload).exp + 60 }), 'ERR_DELEGATION_EXPIRY_EXCEEDED'],
      ['an expiry already past', (m) => hop(m, m.token, intern, [approve(100)], { exp: Math.floor(h.clock.now() / 1000) - 1 }), 'ERR_DELEGATION_EXPIRY_EXCEEDED'],
      ['a forged signature', (m) => { const x = hop(m, m.token, intern, [approve(100)]); return `${x.slice(0, -5)}${x.at(-5) === 'A' ? 'B' : 'A'}${x.slice(-4)}`; }, 'ERR_CHAIN_SIGNATURE_INVALID'],
      ['a hop signed by another key', (m) => hop(m, m.token, intern, [approve(100)], { signer: generateKeyPair() }), 'ERR_CHAIN_KEY_MISMATCH'],
      ['root facts naming another key', (m) => hop(m, m.token, intern, [approve(100)], { edit: (c) => ({ ...c, rt: { ...c.rt!, k: generateKeyPair().publicJwk.x } }) }), 'ERR_CHAIN_KEY_MISMATCH'],
      ['a hop linking to another token', (m) => hop(m, m.token, intern, [approve(100)], { edit: (c) => ({ ...c, prv: sha256B64url('another token') }) }), 'ERR_CHAIN_LINK_BROKEN'],
      ['a hop naming another delegator', (m) => hop(m, m.token, intern, [approve(100)], { edit: (c) => ({ ...c, iss: executor.spiffeId }) }), 'ERR_CHAIN_LINK_BROKEN'],
      ['a hop at the wrong depth', (m) => hop(m, m.token, intern, [approve(100)], { edit: (c) => ({ ...c, dep: 2, rt: undefined }) }), 'ERR_CHAIN_LINK_BROKEN'],
      ['a hop for another principal', (m) => hop(m, m.token, intern, [approve(100)], { edit: (c) => ({ ...c, pri: 'user:mallory@acme.example' }) }), 'ERR_CHAIN_INVALID'],
      ['a malformed hop', () => 'not.a.hop', 'ERR_CHAIN_INVALID'],
    ];
    it.each(bad)('refuses %s', async (_name, make, expected) => {
      expect(await codeOf(delegate(h, manager, manager.token, make(manager)))).toBe(expected);
    });

    it('uses a signed hop once only', async () => {
      const once = hop(manager, manager.token, executor, [approve(10)]);
      await delegate(h, manager, manager.token, once);
      expect(await codeOf(delegate(h, manager, manager.token, once))).toBe('ERR_ALREADY_EXISTS');
    });

    it('records each refusal for audit with its precise reason', async () => {
      const denied = h.audit.filter((r) => r.type === 'delegation.denied' && r.reasonCode === 'ERR_SCOPE_ESCALATION');
      expect(denied.length).toBeGreaterThanOrEqual(4);
      expect(denied.every((r) => r.outcome === 'deny' && typeof r.reasonDetail === 'string' && r.reasonDetail.startsWith('hop 1'))).toBe(true);
    });
  });

  describe('chains', () => {
    it('refuses a cycle A → B → A', async () => {
      const toIntern = await pass(h, manager, manager.token, intern, [approve(9000)]);
      expect(await codeOf(delegate(h, intern, toIntern.token, hop(intern, toIntern.token, manager, [approve(9000)])))).toBe('ERR_CHAIN_CYCLE');
    });

    it('reaches depth 5 by value within 4 KB, and refuses depth 6', async () => {
      const agents = [manager];
      for (let i = 0; i < 6; i++) agents.push(await h.raw(T(`d${i}`), { scopes: ['read:invoices'] }));
      let token = manager.token;
      const sizes: number[] = [token.length];
      for (let d = 1; d <= 5; d++) {
        const next = await pass(h, agents[d - 1]!, token, agents[d]!, [approve(10000 - d * 1000)]);
        token = next.token;
        sizes.push(token.length);
      }
      const claims = parseAccessTokenClaims(decodeJws(token).payload);
      expect(claims.del?.d).toBe(5);
      expect(claims.del?.hops).toHaveLength(5);
      expect(sizes[5]).toBeLessThanOrEqual(4096);
      // The depth-5 holder's token works at the resource, every hop verified.
      expect((await h.paymentsAs(agents[5]!.key, token).approve(5000)).depth).toBe(5);
      expect(await codeOf(delegate(h, agents[5]!, token, hop(agents[5]!, token, agents[6]!, [approve(10)])))).toBe('ERR_DELEGATION_DEPTH_EXCEEDED');
    });
  });

  describe('revocation reaches every resource', () => {
    it('denies a chain whose hop is revoked, and one whose intermediate agent is revoked', async () => {
      const m = await h.raw(T('rev-m'), { scopes: [approve(10000)] });
      const i = await h.raw(T('rev-i'), { scopes: ['read:invoices'] });
      const e = await h.raw(T('rev-e'), { scopes: ['read:invoices'] });
      const e2 = await h.raw(T('rev-e2'), { scopes: ['read:invoices'] });
      const toI = await pass(h, m, m.token, i, [approve(10000)]);
      const toE = await pass(h, i, toI.token, e, [approve(5000)]);
      expect((await h.paymentsAs(e.key, toE.token).approve(100)).depth).toBe(2);
      const seq = await h.revoke(RevocationLevel.HOP, toI.hopHash);
      await until(() => h.payments.feed.sequence >= seq);
      expect(await codeOf(h.paymentsAs(e.key, toE.token).approve(100))).toBe('ERR_CHAIN_REVOKED');

      // A fresh chain through the same intern, then the intern itself is revoked.
      const toI2 = await pass(h, m, m.token, i, [approve(9000)]);
      const toE2 = await pass(h, i, toI2.token, e2, [approve(4000)]);
      expect((await h.paymentsAs(e2.key, toE2.token).approve(100)).depth).toBe(2);
      const seq2 = await h.revoke(RevocationLevel.AGENT, i.spiffeId);
      await until(() => h.payments.feed.sequence >= seq2);
      expect(await codeOf(h.paymentsAs(e2.key, toE2.token).approve(100))).toBe('ERR_TOKEN_REVOKED');
    });
  });

  describe('GetChain and Verify', () => {
    it('GetChain answers by chain hash only', async () => {
      expect(await codeOf(h.delegationClient.getChain({ chainHash: sha256B64url('nothing') }))).toBe('ERR_NOT_FOUND');
      expect(await codeOf(h.delegationClient.getChain({ chainHash: 'short' }))).toBe('ERR_INVALID_ARGUMENT');
    });

    it('Verify checks a token online, with an optional request', async () => {
      const toI = await pass(h, manager, manager.token, intern, [approve(5000)]);
      const ok = await h.delegationClient.verify({ accessToken: toI.token });
      expect(ok).toMatchObject({ valid: true, principal: PRINCIPAL, agents: [manager.spiffeId, intern.spiffeId], depth: 1, code: '' });
      expect(ok.effectiveScopes.map((s) => s.constraints['max_amount']?.max)).toEqual([5000]);
      const attr = (amount: number) => [{ key: 'max_amount', value: { kind: { case: 'numberValue' as const, value: amount } } }];
      expect(await h.delegationClient.verify({ accessToken: toI.token, action: 'approve', resource: 'payments', attributes: attr(4000) })).toMatchObject({ valid: true });
      expect(await h.delegationClient.verify({ accessToken: toI.token, action: 'approve', resource: 'payments', attributes: attr(6000) })).toMatchObject({ valid: false, code: 'ERR_CONSTRAINT_VIOLATED' });
      expect(await h.delegationClient.verify({ accessToken: 'garbage' })).toMatchObject({ valid: false, code: 'ERR_TOKEN_MALFORMED' });
      const seq = await h.revoke(RevocationLevel.HOP, toI.hopHash);
      await until(() => h.feeds.every((f) => f.sequence >= seq));
      expect(await h.delegationClient.verify({ accessToken: toI.token })).toMatchObject({ valid: false, code: 'ERR_CHAIN_REVOKED' });
    });
  });
});

describe('DelegationService under workflow policy', () => {
  it('refuses a chain deeper than the workflow maximum', async () => {
    const h = await startHarness({ policy: { maxDelegationDepth: 2 } });
    try {
      const [a, b, c, d] = await Promise.all(['a', 'b', 'c', 'd'].map((t) => h.raw(`depth-${t}`, { scopes: t === 'a' ? [approve(100)] : ['read:invoices'] })));
      const ab = await pass(h, a!, a!.token, b!, [approve(100)]);
      const bc = await pass(h, b!, ab.token, c!, [approve(100)]);
      expect(await codeOf(delegate(h, c!, bc.token, hop(c!, bc.token, d!, [approve(100)])))).toBe('ERR_DELEGATION_DEPTH_EXCEEDED');
    } finally {
      await h.close();
    }
  });

  it('refuses re-delegation when the workflow does not allow it', async () => {
    const h = await startHarness({ policy: { allowRedelegation: false } });
    try {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((t) => h.raw(`redelegate-${t}`, { scopes: t === 'a' ? [approve(100)] : ['read:invoices'] })));
      const ab = await pass(h, a!, a!.token, b!, [approve(100)]);
      expect(await codeOf(delegate(h, b!, ab.token, hop(b!, ab.token, c!, [approve(100)])))).toBe('ERR_REDELEGATION_NOT_ALLOWED');
    } finally {
      await h.close();
    }
  });

  it('allows a target outside the orchestration that the workflow names', async () => {
    const h = await startHarness({ policy: { allowedDelegationTargets: ['spiffe://baton.local/agent/partner-orch/*/*'] } });
    try {
      const a = await h.raw('allowed-a', { scopes: [approve(100)] });
      const partner = await h.raw('allowed-p', { scopes: ['read:invoices'], orchestrator: 'other' });
      const res = await pass(h, a, a.token, partner, [approve(100)]);
      expect(parseAccessTokenClaims(decodeJws(res.token).payload)).toMatchObject({ sub: partner.spiffeId, orch_id: 'partner-orch', wf: 'expense-approval' });
    } finally {
      await h.close();
    }
  });
});

describe('by-reference chains', () => {
  it('carries the chain hash and a reference above the threshold; guards fetch the chain and verify it', async () => {
    const h = await startHarness({ referenceThresholdBytes: 1900 });
    try {
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((t) => h.raw(`byref-${t}`, { scopes: t === 'a' ? [approve(10000)] : ['read:invoices'] })));
      const ab = await pass(h, a!, a!.token, b!, [approve(9000)]);
      const bc = await pass(h, b!, ab.token, c!, [approve(4000)]);
      const claims = parseAccessTokenClaims(decodeJws(bc.token).payload);
      expect(claims.del?.ref).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(claims.del?.hops).toBeUndefined();
      expect(claims.del?.ch).toBe(bc.chainHash);
      // The payments guard resolves it through GetChain and verifies every hop.
      expect((await h.paymentsAs(c!.key, bc.token).approve(3000)).depth).toBe(2);
      expect(await codeOf(h.paymentsAs(c!.key, bc.token).approve(5000))).toBe('ERR_CONSTRAINT_VIOLATED');
      // A by-reference delegator can delegate further (its chain comes from ResolveReference).
      const d = await h.raw('byref-d', { scopes: ['read:invoices'] });
      const cd = await pass(h, c!, bc.token, d, [approve(1000)]);
      expect(decodeHop((await h.delegationClient.getChain({ chainHash: cd.chainHash })).hops[2]!).claims.sub).toBe(d.spiffeId);
    } finally {
      await h.close();
    }
  });
});
