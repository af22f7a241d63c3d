import { describe, expect, it } from 'vitest';
import { BatonError, type AccessTokenClaims } from '@baton/core';
import { chainVerifier, type ChainResolver } from './chain-verifier.js';
import { NOW, NOW_MS, TestAuthority, buildChain, claimsOf, type Link } from './testing/chain-fixtures.js';

const authority = new TestAuthority();
const links = buildChain(authority, 3);

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof BatonError ? err.code : `not a BatonError: ${String(err)}`;
  }
  return 'accepted';
}

/** Frozen claims, as the guard hands them over. */
function frozen(token: string): AccessTokenClaims {
  return Object.freeze(claimsOf(token));
}

function byReference(link: Link): string {
  const c = claimsOf(link.token);
  return authority.childToken(link.material!, link.holder, c.scopes ?? [{ action: 'approve', resource: 'payments' }, { action: 'read', resource: 'invoices' }], {
    reference: 'REFREFREFREFREFREFREFR',
  });
}

function countingResolver(hops: readonly string[]): ChainResolver & { calls: number } {
  const r = Object.assign(async () => {
    r.calls++;
    return hops;
  }, { calls: 0 });
  return r;
}

const input = (claims: AccessTokenClaims, nowMs = NOW_MS) => ({ claims, nowMs, leewaySeconds: 30 });

describe('chainVerifier (the guard plug-in)', () => {
  it('reports depth, agents root first, hop hashes and the chain hash', async () => {
    const r = await chainVerifier().verify(input(frozen(links[3]!.token)));
    expect(r.depth).toBe(3);
    expect(r.agents).toEqual(links.slice(0, 3).map((l) => l.holder.id));
    expect(r.hopHashes).toHaveLength(3);
    expect(r.chainHash).toBe(links[3]!.material!.chainHash);
  });

  it('resolves a by-reference chain once and caches it by chain hash', async () => {
    const resolve = countingResolver(links[3]!.material!.hops);
    const v = chainVerifier({ resolve });
    const claims = frozen(byReference(links[3]!));
    expect((await v.verify(input(claims))).depth).toBe(3);
    expect((await v.verify(input(claims))).depth).toBe(3);
    // Another token carrying the same chain: no second fetch either.
    expect((await v.verify(input(frozen(byReference(links[3]!))))).depth).toBe(3);
    expect(resolve.calls).toBe(1);
  });

  it('does not cache what a resolver got wrong', async () => {
    const resolve = countingResolver(links[2]!.material!.hops);
    const v = chainVerifier({ resolve });
    const claims = frozen(byReference(links[3]!));
    expect(await code(v.verify(input(claims)))).toBe('ERR_CHAIN_INVALID');
    expect(await code(v.verify(input(claims)))).toBe('ERR_CHAIN_INVALID');
    expect(resolve.calls).toBe(2);
  });

  it('denies a by-reference chain it cannot resolve', async () => {
    const claims = frozen(byReference(links[2]!));
    expect(await code(chainVerifier().verify(input(claims)))).toBe('ERR_TOKEN_REFERENCE_UNKNOWN');
    const broken = chainVerifier({
      resolve: async () => {
        throw new Error('socket closed');
      },
    });
    expect(await code(broken.verify(input(claims)))).toBe('ERR_TOKEN_REFERENCE_UNKNOWN');
    const down = chainVerifier({
      resolve: async () => {
        throw new BatonError('ERR_UNAVAILABLE', 'down');
      },
    });
    expect(await code(down.verify(input(claims)))).toBe('ERR_UNAVAILABLE');
  });

  it('re-checks expiry and revocation on every call, cached or not', async () => {
    const revoked = new Set<string>();
    const v = chainVerifier({ isRevoked: (e) => e.kind === 'hop' && revoked.has(e.hash) });
    const claims = frozen(links[2]!.token);
    const first = await v.verify(input(claims));
    revoked.add(first.hopHashes[0]!);
    expect(await code(v.verify(input(claims)))).toBe('ERR_CHAIN_REVOKED');
    revoked.clear();
    expect(await code(v.verify(input(claims)))).toBe('accepted');
    expect(await code(v.verify(input(claims, (NOW + 400) * 1000)))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('applies a policy maximum depth below the hard cap', async () => {
    expect(await code(chainVerifier({ maxDepth: 2 }).verify(input(frozen(links[3]!.token))))).toBe('ERR_DELEGATION_DEPTH_EXCEEDED');
  });

  it('refuses options a caller got wrong with TypeError', () => {
    expect(() => chainVerifier({ maxDepth: 6 })).toThrow(TypeError);
    expect(() => chainVerifier({ maxDepth: 0 })).toThrow(TypeError);
    expect(() => chainVerifier({ resolve: 'issuer' as never })).toThrow(TypeError);
  });
});
