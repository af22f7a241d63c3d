import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatonError } from './errors.js';
import { sha256B64url } from './hash.js';
import { chainHash } from './chain-hash.js';
import { encodeHopScopes, hopHash, signHop, type HopClaims } from './hop.js';
import { hopContextOf, packHops, unpackHops, type HopContext } from './hop-transport.js';
import { generateKeyPair, type KeyPair } from './keys.js';
import { parseScope } from './scope.js';
import { agentSpiffeId } from './spiffe.js';
import type { AccessTokenClaims } from './token.js';

const ROOT_HASH = sha256B64url('the root token');
const ROOT_JTI = 'RRRRRRRRRRRRRRRRRRRRRR';
const PRINCIPAL = 'user:vp@acme.example';
const SCOPES = encodeHopScopes([parseScope({ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } })]);

interface Party {
  readonly id: string;
  readonly key: KeyPair;
}

const parties: Party[] = ['manager', 'intern', 'executor', 'clerk', 'bot', 'auditor'].map((t, i) => ({
  id: agentSpiffeId('baton.local', 'orch-1', t, String.fromCharCode(65 + i).repeat(22)),
  key: generateKeyPair(),
}));

/** A chain of `n` honest hops among `parties`: from hop 3 on each narrows `max`, from hop 4 on each expires earlier. */
function chain(n: number, tweak: (i: number, c: HopClaims) => HopClaims = (_i, c) => c): string[] {
  const hops: string[] = [];
  let prv = ROOT_HASH;
  for (let i = 0; i < n; i++) {
    const claims = tweak(i, {
      iss: parties[i]!.id,
      sub: parties[i + 1]!.id,
      k: parties[i + 1]!.key.publicJwk.x,
      scp: i < 2 ? SCOPES : encodeHopScopes([parseScope({ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 - i } } })]),
      exp: 1_750_000_300 - (i < 3 ? 0 : i),
      prv,
      dep: i + 1,
      pri: PRINCIPAL,
      tsk: 'orch-1/manager',
      ...(i === 0 ? { rt: { jti: ROOT_JTI, k: parties[0]!.key.publicJwk.x, scp: SCOPES, exp: 1_750_000_300 } } : {}),
    });
    const hop = signHop(claims, parties[i]!.key);
    hops.push(hop);
    prv = chainHash(prv, [hopHash(hop)]);
  }
  return hops;
}

/** The context of a token at depth `n` of {@link chain} (its scopes are its last hop's). */
function ctx(n: number): HopContext {
  const last = parseScope({ action: 'approve', resource: 'payments', constraints: { max_amount: { max: n - 1 < 2 ? 10000 : 10000 - (n - 1) } } });
  return { agents: parties.slice(0, n + 1).map((p) => p.id), principal: PRINCIPAL, scopes: [last], rootJti: ROOT_JTI, rootTokenHash: ROOT_HASH };
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof BatonError ? err.code : `not a BatonError: ${String(err)}`;
  }
  return 'no error';
}

describe('packHops / unpackHops', () => {
  it('leaves out what the context says and rebuilds the exact signed hops', () => {
    const hops = chain(5);
    const packed = packHops(hops, ctx(5));
    // Hop 1 keeps only its key, root facts (minus jti) and signature; later hops add what
    // changed (key k, scopes s, expiry e, signature g); the last hop's scopes are the token's.
    expect(Object.keys(packed[0]!).sort()).toEqual(['g', 'k', 'r']);
    expect(Object.keys(packed[0]!.r as object).sort()).toEqual(['e', 'k', 's']);
    expect(Object.keys(packed[1]!).sort()).toEqual(['g', 'k']);
    expect(Object.keys(packed[2]!).sort()).toEqual(['g', 'k', 's']);
    expect(Object.keys(packed[3]!).sort()).toEqual(['e', 'g', 'k', 's']);
    expect(Object.keys(packed[4]!).sort()).toEqual(['e', 'g', 'k']);
    // Scopes relative to the parent (a merge patch of the narrowed constraint); expiry as "seconds earlier".
    expect(packed[2]!.s).toEqual([[0, { max_amount: { max: 9998 } }]]);
    expect(packed[3]!.s).toEqual([[0, { max_amount: { max: 9997 } }]]);
    expect(packed[3]!.e).toBe(3);
    expect(packed[4]!.e).toBe(1);
    expect(unpackHops(packed, ctx(5)).map((h) => h.compact)).toEqual(hops);
    // Smaller than the compact hops even before the outer base64url.
    expect(JSON.stringify(packed).length).toBeLessThan(JSON.stringify(hops).length / 2);
  });

  it('carries a claim explicitly whenever it differs from the context (lossless for any hop)', () => {
    const stranger = generateKeyPair();
    const odd = chain(2, (i, c) => (i === 1 ? { ...c, iss: parties[5]!.id, prv: sha256B64url('elsewhere'), dep: 7, pri: 'user:other', tsk: 'orch-9/t' } : c));
    // Hop 2 signed by a key other than the one hop 1 bound: kid travels too.
    odd[1] = signHop({ ...(JSON.parse(Buffer.from(odd[1]!.split('.')[1]!, 'base64url').toString()) as HopClaims) }, stranger);
    const packed = packHops(odd, ctx(2));
    expect(packed[1]).toMatchObject({ i: parties[5]!.id, d: 7, a: 'user:other', t: 'orch-9/t', h: stranger.thumbprint });
    expect(unpackHops(packed, ctx(2)).map((h) => h.compact)).toEqual(odd);
  });

  it('says scopes relative to the parent: unchanged by index, narrowed by patch, changed names in full', () => {
    const parentScopes = encodeHopScopes([
      parseScope({ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 }, currency: { in: ['EUR', 'USD'] } } }),
      parseScope('read:invoices:acme/*'),
      parseScope({ action: 'pay', resource: 'vendors', constraints: { amount: { max: 5 } } }),
    ]);
    const childScopes = encodeHopScopes([
      parseScope('read:invoices:acme/*'),
      parseScope({ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000, min: 1 } } }),
      parseScope('pay:vendors:v1'),
      parseScope({ action: 'pay', resource: 'vendors', constraints: { amount: { max: 5 }, region: { eq: 'eu' } } }),
    ]);
    const hops = chain(2, (i, c) => {
      if (i === 0) return { ...c, scp: parentScopes, rt: { ...c.rt!, scp: parentScopes } };
      return { ...c, scp: childScopes };
    });
    const packed = packHops(hops, { ...ctx(2), scopes: [parseScope('read:x')] });
    expect(packed[1]!.s).toEqual([1, [0, { currency: null, max_amount: { min: 1 } }], 'pay:vendors:v1', [2, { region: { eq: 'eu' } }]]);
    expect(unpackHops(packed, { ...ctx(2), scopes: [parseScope('read:x')] }).map((h) => h.compact)).toEqual(hops);
  });

  it('round-trips any chain under any context (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.boolean(),
        fc.boolean(),
        fc.option(fc.constantFrom('user:a', PRINCIPAL), { nil: undefined }),
        (n, withAgents, withJti, principal) => {
          const hops = chain(n);
          const c: HopContext = {
            rootTokenHash: ROOT_HASH,
            ...(withJti ? { scopes: ctx(n).scopes! } : { scopes: [parseScope('read:x')] }),
            ...(withAgents ? { agents: ctx(n).agents! } : {}),
            ...(withJti ? { rootJti: ROOT_JTI } : {}),
            ...(principal !== undefined ? { principal } : {}),
          };
          expect(unpackHops(packHops(hops, c), c).map((h) => h.compact)).toEqual(hops);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('does not rebuild the signed hop under another context (a moved hop no longer verifies)', () => {
    const hops = chain(3);
    const packed = packHops(hops, ctx(3));
    const elsewhere: HopContext = { ...ctx(3), principal: 'user:mallory' };
    expect(unpackHops(packed, elsewhere).map((h) => h.compact)).not.toEqual(hops);
  });

  const packed = packHops(chain(2), ctx(2));
  it.each([
    ['not an array', () => unpackHops({}, ctx(2))],
    ['empty', () => unpackHops([], ctx(2))],
    ['17 hops', () => unpackHops(Array(17).fill(packed[1]), ctx(2))],
    ['a string hop', () => unpackHops(['a.b.c'], ctx(2))],
    ['unknown member', () => unpackHops([{ ...packed[0], x: 1 }, packed[1]], ctx(2))],
    ['unknown r member', () => unpackHops([{ ...packed[0], r: { ...(packed[0]!.r as object), x: 1 } }, packed[1]], ctx(2))],
    ['r not an object', () => unpackHops([{ ...packed[0], r: 'x' }, packed[1]], ctx(2))],
    ['null claim', () => unpackHops([{ ...packed[0], e: null }, packed[1]], ctx(2))],
    ['long member name', () => unpackHops([{ ...packed[0], exp: 1 }, packed[1]], ctx(2))],
    ['missing signature', () => unpackHops([{ ...packed[0], g: undefined }, packed[1]], ctx(2))],
    ['scope index out of range', () => unpackHops([packed[0], { ...packed[1], s: [5] }], ctx(2))],
    ['scope patch not an object', () => unpackHops([packed[0], { ...packed[1], s: [[0, 'x']] }], ctx(2))],
    ['fractional expiry delta', () => unpackHops([packed[0], { ...packed[1], e: 0.5 }], ctx(2))],
    ['agents not derivable', () => unpackHops(packed, { rootTokenHash: ROOT_HASH, principal: PRINCIPAL, rootJti: ROOT_JTI })],
    ['root hash malformed', () => unpackHops(packed, { ...ctx(2), rootTokenHash: 'x' })],
  ])('refuses %s with ERR_CHAIN_INVALID', (_name, f) => {
    expect(code(f)).toBe('ERR_CHAIN_INVALID');
  });
});

describe('hopContextOf', () => {
  it('reads agents from act (innermost first) and sub, and the root from del.root', () => {
    const claims = {
      sub: parties[2]!.id,
      principal: PRINCIPAL,
      act: { sub: parties[1]!.id, act: { sub: parties[0]!.id } },
      del: { ch: ROOT_HASH, d: 2, root: { jti: ROOT_JTI, th: ROOT_HASH } },
    } as unknown as AccessTokenClaims;
    expect(hopContextOf(claims)).toEqual({ rootTokenHash: ROOT_HASH, principal: PRINCIPAL, agents: parties.slice(0, 3).map((p) => p.id), rootJti: ROOT_JTI });
    const withScopes = { ...claims, scope: 'read:invoices' } as AccessTokenClaims;
    expect(hopContextOf(withScopes).scopes).toEqual([{ action: 'read', resource: 'invoices' }]);
    expect(code(() => hopContextOf({ ...claims, del: { ch: ROOT_HASH, d: 2, root: {} } } as AccessTokenClaims))).toBe('ERR_CHAIN_INVALID');
  });
});
