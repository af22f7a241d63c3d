import { describe, expect, it } from 'vitest';
import { BatonError, generateKeyPair, sha256B64url, type AccessTokenClaims } from '@baton/core';
import { verifyChain } from './verify-chain.js';
import type { ChainElement } from './walk-chain.js';
import { ISSUER, NOW, NOW_MS, PRINCIPAL, TestAuthority, agent, buildChain, claimsOf, delegateLink, type Link } from './testing/chain-fixtures.js';

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof BatonError ? err.code : `not a BatonError: ${String(err)}`;
  }
  return 'no error';
}

const authority = new TestAuthority();
const opts = { keys: authority.keys, now: NOW_MS, issuer: ISSUER };

describe('verifyChain: chains that hold', () => {
  const links = buildChain(authority, 5);

  it.each([1, 2, 3, 4, 5])('depth %i: principal, agents root first, holder, effective scopes, hop hashes', (depth) => {
    const link = links[depth]!;
    const chain = verifyChain(link.token, opts);
    expect(chain.depth).toBe(depth);
    expect(chain.principal).toBe(PRINCIPAL);
    expect(chain.agents).toEqual(links.slice(0, depth).map((l) => l.holder.id));
    expect(chain.holder).toBe(link.holder.id);
    expect(chain.scopes.map((s) => `${s.action}:${s.resource}`)).toEqual(['approve:payments', 'read:invoices']);
    expect(chain.hopHashes).toEqual(link.material!.hops.map((h) => sha256B64url(h)));
    expect(chain.chainHash).toBe(link.material!.chainHash);
    expect(chain.rootTokenHash).toBe(sha256B64url(links[0]!.token));
    expect(chain.rootJti).toBe(claimsOf(links[0]!.token).jti);
    expect(chain.task).toBe(`expense-orchestrator/${links[0]!.holder.task}`);
  });

  it('accepts already-verified claims without keys (the guard path)', () => {
    expect(verifyChain(claimsOf(links[3]!.token), { now: NOW_MS }).depth).toBe(3);
  });

  it('verifies a by-reference token against the chain it was given', () => {
    const by = links[3]!;
    const token = authority.childToken(by.material!, by.holder, claimsOf(by.token).scopes ?? [{ action: 'approve', resource: 'payments' }, { action: 'read', resource: 'invoices' }], {
      reference: 'REFREFREFREFREFREFREFR',
    });
    expect(code(() => verifyChain(token, opts))).toBe('ERR_TOKEN_REFERENCE_UNKNOWN');
    const chain = verifyChain(token, { ...opts, hops: by.material!.hops });
    expect(chain.depth).toBe(3);
    // Another (valid) chain under this token's signed chain hash is refused.
    expect(code(() => verifyChain(token, { ...opts, hops: links[3]!.material!.hops.slice(0, 2) }))).toBe('ERR_CHAIN_INVALID');
    const other = buildChain(authority, 3);
    expect(code(() => verifyChain(token, { ...opts, hops: other[3]!.material!.hops }))).toBe('ERR_CHAIN_LINK_BROKEN');
  });

  it('narrows at each hop and verifies', () => {
    const vp = agent('manager');
    const root: Link = { token: authority.rootToken(vp, [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } }]), holder: vp };
    const intern = delegateLink(authority, root, agent('intern'), [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } }], { hopExp: NOW + 200 });
    const exec = delegateLink(authority, intern, agent('payments-executor'), [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 5000 } } }], { hopExp: NOW + 100 });
    const chain = verifyChain(exec.token, opts);
    expect(chain.scopes).toEqual([{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 5000 } } }]);
    expect(chain.expiresAt).toBe(NOW + 100);
  });
});

describe('verifyChain: the token around the chain', () => {
  const links = buildChain(authority, 2);
  const token = links[2]!.token;

  it.each([
    ['no keys', () => verifyChain(token, { now: NOW_MS }), 'TypeError'],
    ['unknown kid', () => verifyChain(token, { keys: new Map(), now: NOW_MS }), 'ERR_TOKEN_KID_UNKNOWN'],
    ['revoked kid', () => verifyChain(token, { keys: { key: () => 'revoked' }, now: NOW_MS }), 'ERR_TOKEN_KEY_REVOKED'],
    ['another authority', () => verifyChain(token, { keys: new TestAuthority().keys, now: NOW_MS }), 'ERR_TOKEN_KID_UNKNOWN'],
    ['wrong issuer', () => verifyChain(token, { ...opts, issuer: 'spiffe://other/authority' }), 'ERR_TOKEN_ISSUER_INVALID'],
    ['expired', () => verifyChain(token, { ...opts, now: (NOW + 400) * 1000 }), 'ERR_TOKEN_EXPIRED'],
    ['garbage', () => verifyChain('not.a.token', opts), 'ERR_TOKEN_MALFORMED'],
    ['a token without delegation', () => verifyChain(links[0]!.token, opts), 'ERR_CHAIN_INVALID'],
    ['claims whose chain expired', () => verifyChain(claimsOf(token), { now: (NOW + 400) * 1000 }), 'ERR_TOKEN_EXPIRED'],
    ['maxDepth below the depth', () => verifyChain(token, { ...opts, maxDepth: 1 }), 'ERR_DELEGATION_DEPTH_EXCEEDED'],
  ])('%s → %s', (_name, f, expected) => {
    let got = code(f);
    if (got.startsWith('not a BatonError: TypeError')) got = 'TypeError';
    expect(got).toBe(expected);
  });

  it('refuses maxDepth above the hard cap as a programming mistake', () => {
    expect(() => verifyChain(token, { ...opts, maxDepth: 6 })).toThrow(TypeError);
  });
});

describe('verifyChain: revocation', () => {
  const links = buildChain(authority, 3);
  const token = links[3]!.token;
  const chain = verifyChain(token, opts);

  it.each<[string, (e: ChainElement) => boolean]>([
    ['the root token', (e) => e.kind === 'root' && e.jti === chain.rootJti],
    ['hop 2', (e) => e.kind === 'hop' && e.hash === chain.hopHashes[1]],
    ['an intermediate agent', (e) => e.kind === 'agent' && e.id === links[1]!.holder.id],
    ['the final holder', (e) => e.kind === 'agent' && e.id === links[3]!.holder.id],
  ])('denies when %s is revoked', (_name, isRevoked) => {
    expect(code(() => verifyChain(token, { ...opts, isRevoked }))).toBe('ERR_CHAIN_REVOKED');
  });

  it('passes the code the lookup returns, and fails closed when the lookup throws', () => {
    expect(code(() => verifyChain(token, { ...opts, isRevoked: (e) => (e.kind === 'agent' ? 'ERR_TOKEN_RELEASED' : false) }))).toBe('ERR_TOKEN_RELEASED');
    expect(
      code(() =>
        verifyChain(token, {
          ...opts,
          isRevoked: () => {
            throw new Error('view down');
          },
        }),
      ),
    ).toBe('ERR_CHAIN_REVOKED');
    const seen: string[] = [];
    verifyChain(token, { ...opts, isRevoked: (e) => void seen.push(e.kind) });
    expect(seen).toEqual(['root', 'hop', 'hop', 'hop', 'agent', 'agent', 'agent', 'agent']);
  });
});

describe('verifyChain: the precise reason', () => {
  it('names the hop and the widening, for the audit log', () => {
    const vp = agent('manager');
    const root: Link = { token: authority.rootToken(vp, [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } }]), holder: vp };
    const intern = delegateLink(authority, root, agent('intern'), [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } }]);
    const bad = delegateLink(authority, intern, agent('executor'), [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 50000 } } }]);
    try {
      verifyChain(bad.token, opts);
      expect.unreachable();
    } catch (err) {
      expect((err as BatonError).code).toBe('ERR_SCOPE_ESCALATION');
      // The detail is the audit log's why-denied (issue 3): hop, constraint and both bounds.
      expect((err as BatonError).detail).toBe('hop 2 widened max_amount 10000 → 50000');
    }
  });
});

describe('verifyChain: claims it was handed', () => {
  it('refuses a claims object whose del was altered after verification', () => {
    const links = buildChain(authority, 2);
    const claims: AccessTokenClaims = { ...claimsOf(links[2]!.token) };
    claims.del = { ...claims.del!, ch: sha256B64url('another chain') };
    expect(code(() => verifyChain(claims, { now: NOW_MS }))).toBe('ERR_CHAIN_HASH_MISMATCH');
    const stranger = generateKeyPair();
    expect(code(() => verifyChain({ ...claimsOf(links[2]!.token), cnf: { jkt: stranger.thumbprint } }, { now: NOW_MS }))).toBe('ERR_CHAIN_KEY_MISMATCH');
  });
});
