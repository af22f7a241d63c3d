import { describe, expect, it } from 'vitest';
import { b64urlEncode } from './encoding.js';
import { BatonError } from './errors.js';
import { sha256B64url } from './hash.js';
import { chainHash, chainStep } from './chain-hash.js';
import { HOP_TYP, decodeHop, decodeHopScopes, encodeHopScopes, hopHash, signHop, type HopClaims } from './hop.js';
import { nextHopClaims, rootTaskOf } from './next-hop-claims.js';
import { canonicalJson } from './json.js';
import { generateKeyPair, verifyBytes } from './keys.js';
import { parseScope } from './scope.js';
import { agentSpiffeId } from './spiffe.js';
import type { AccessTokenClaims } from './token.js';

const A = agentSpiffeId('baton.local', 'orch-1', 'manager', 'AAAAAAAAAAAAAAAAAAAAAA');
const B = agentSpiffeId('baton.local', 'orch-1', 'intern', 'BBBBBBBBBBBBBBBBBBBBBB');
const rootKey = generateKeyPair();
const bKey = generateKeyPair();
const H = sha256B64url('root token');

function claims(over: Partial<HopClaims> = {}): HopClaims {
  return {
    iss: A,
    sub: B,
    k: bKey.publicJwk.x,
    scp: encodeHopScopes([parseScope({ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } })]),
    exp: 1_750_000_300,
    prv: H,
    dep: 1,
    pri: 'user:vp@acme.example',
    tsk: 'orch-1/manager',
    rt: { jti: 'RRRRRRRRRRRRRRRRRRRRRR', k: rootKey.publicJwk.x, scp: ['approve:payments'], exp: 1_750_000_300 },
    ...over,
  };
}

function code(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof BatonError ? err.code : `not a BatonError: ${String(err)}`;
  }
  return 'no error';
}

/** Rebuilds a compact hop from raw header/payload JSON text, keeping the signature. */
function rebuild(hop: string, header: string, payload: string): string {
  return `${b64urlEncode(header)}.${b64urlEncode(payload)}.${hop.split('.')[2]}`;
}

describe('hop scopes', () => {
  it('use the string form without constraints and [string, constraints] with them', () => {
    const scopes = [parseScope('read:invoices:acme/*'), parseScope({ action: 'approve', resource: 'payments', constraints: { currency: { in: ['USD', 'EUR'] } } })];
    const enc = encodeHopScopes(scopes);
    expect(enc).toEqual(['read:invoices:acme/*', ['approve:payments', { currency: { in: ['EUR', 'USD'] } }]]);
    expect(decodeHopScopes(enc)).toEqual([scopes[0], { ...scopes[1], constraints: { currency: { in: ['EUR', 'USD'] } } }]);
  });

  it.each([
    ['empty', []],
    ['not an array', 'read:invoices'],
    ['malformed scope', ['read']],
    ['unnormalised in-set', [['approve:payments', { currency: { in: ['USD', 'EUR'] } }]]],
    ['empty constraints', [['approve:payments', {}]]],
    ['three-element entry', [['approve:payments', { a: { max: 1 } }, 'x']]],
    ['number entry', [7]],
  ])('refuses %s with ERR_CHAIN_INVALID', (_name, v) => {
    expect(code(() => decodeHopScopes(v))).toBe('ERR_CHAIN_INVALID');
  });
});

describe('signHop / decodeHop', () => {
  it('round-trips, with kid = the signer thumbprint and a signature over the canonical signing input', () => {
    const compact = signHop(claims(), rootKey);
    const hop = decodeHop(compact);
    expect(hop.compact).toBe(compact);
    expect(hop.kid).toBe(rootKey.thumbprint);
    expect(hop.claims).toEqual(claims());
    expect(hop.scopes[0]!.constraints).toEqual({ max_amount: { max: 10000 } });
    expect(hop.rootScopes).toEqual([{ action: 'approve', resource: 'payments' }]);
    expect(hop.hash).toBe(sha256B64url(compact));
    expect(hopHash(compact)).toBe(hop.hash);
    const [h, p] = compact.split('.');
    expect(Buffer.from(h!, 'base64url').toString()).toBe(canonicalJson({ alg: 'EdDSA', kid: rootKey.thumbprint, typ: HOP_TYP }));
    expect(Buffer.from(p!, 'base64url').toString()).toBe(canonicalJson(claims()));
    expect(verifyBytes(Buffer.from(hop.signingInput), hop.signature, rootKey.publicKey)).toBe(true);
  });

  it('refuses claims a caller got wrong with TypeError', () => {
    expect(() => signHop(claims({ dep: 2 }), rootKey)).toThrow(TypeError); // rt on hop 2
    expect(() => signHop(claims({ sub: 'spiffe://baton.local/not-an-agent' }), rootKey)).toThrow(TypeError);
    expect(() => signHop(claims(), {} as never)).toThrow(TypeError);
  });

  const good = signHop(claims(), rootKey);
  const [gh, gp] = good.split('.').map((s) => Buffer.from(s, 'base64url').toString());
  const payload = JSON.parse(gp!) as Record<string, unknown>;
  const cases: [string, () => unknown, string][] = [
    ['not a string', () => decodeHop(42), 'ERR_CHAIN_INVALID'],
    ['two segments', () => decodeHop(good.split('.').slice(0, 2).join('.')), 'ERR_CHAIN_INVALID'],
    ['alg none', () => decodeHop(rebuild(good, JSON.stringify({ alg: 'none', kid: rootKey.thumbprint, typ: HOP_TYP }), gp!)), 'ERR_CHAIN_INVALID'],
    ['wrong typ', () => decodeHop(rebuild(good, canonicalJson({ alg: 'EdDSA', kid: rootKey.thumbprint, typ: 'at+jwt' }), gp!)), 'ERR_CHAIN_INVALID'],
    ['extra header member', () => decodeHop(rebuild(good, canonicalJson({ alg: 'EdDSA', jwk: {}, kid: rootKey.thumbprint, typ: HOP_TYP }), gp!)), 'ERR_CHAIN_INVALID'],
    ['header not canonical (member order)', () => decodeHop(rebuild(good, JSON.stringify({ typ: HOP_TYP, alg: 'EdDSA', kid: rootKey.thumbprint }), gp!)), 'ERR_CHAIN_INVALID'],
    ['payload with whitespace', () => decodeHop(rebuild(good, gh!, JSON.stringify(payload, null, 1))), 'ERR_CHAIN_INVALID'],
    ['payload member order', () => decodeHop(rebuild(good, gh!, JSON.stringify({ sub: payload.sub, ...payload }))), 'ERR_CHAIN_INVALID'],
    ['duplicate payload key', () => decodeHop(rebuild(good, gh!, gp!.replace('{', `{"dep":1,`))), 'ERR_CHAIN_INVALID'],
    ['unknown claim', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, x: 1 }))), 'ERR_CHAIN_INVALID'],
    ['missing claim', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, exp: undefined }))), 'ERR_CHAIN_INVALID'],
    ['rt on hop 2', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, dep: 2 }))), 'ERR_CHAIN_INVALID'],
    ['no rt on hop 1', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, rt: undefined }))), 'ERR_CHAIN_INVALID'],
    ['depth 0', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, dep: 0 }))), 'ERR_CHAIN_INVALID'],
    ['fractional exp', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, exp: 1.5 }))), 'ERR_CHAIN_INVALID'],
    ['short key', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, k: 'abc' }))), 'ERR_CHAIN_INVALID'],
    ['bad prv', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, prv: 'x' }))), 'ERR_CHAIN_INVALID'],
    ['bad tsk', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, tsk: 'no-slash' }))), 'ERR_CHAIN_INVALID'],
    ['non-agent iss', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, iss: 'spiffe://baton.local/x' }))), 'ERR_CHAIN_INVALID'],
    ['control character in pri', () => decodeHop(rebuild(good, gh!, canonicalJson({ ...payload, pri: 'user\nvp' }))), 'ERR_CHAIN_INVALID'],
    ['short signature', () => decodeHop(good.slice(0, -2)), 'ERR_CHAIN_INVALID'],
    ['too large', () => decodeHop('a'.repeat(9000)), 'ERR_CHAIN_INVALID'],
  ];
  it.each(cases)('refuses %s', (_name, f, expected) => {
    expect(code(f)).toBe(expected);
  });
});

describe('chain hash', () => {
  it('folds {c, h, v} canonical JSON from the root token hash', () => {
    const h1 = sha256B64url('hop 1');
    const h2 = sha256B64url('hop 2');
    const step1 = sha256B64url(`{"c":"${H}","h":"${h1}","v":"baton-chain/v1"}`);
    expect(chainStep(H, h1)).toBe(step1);
    expect(chainHash(H, [h1, h2])).toBe(chainStep(step1, h2));
    expect(chainHash(H, [])).toBe(H);
    // Order matters; so does every hop.
    expect(chainHash(H, [h2, h1])).not.toBe(chainHash(H, [h1, h2]));
    expect(() => chainStep('x', h1)).toThrow(TypeError);
  });
});

describe('nextHopClaims', () => {
  const base: AccessTokenClaims = {
    iss: 'spiffe://baton.local/authority',
    sub: A,
    aud: ['payments'],
    exp: 1_750_000_300,
    iat: 1_750_000_000,
    nbf: 1_750_000_000,
    jti: 'JJJJJJJJJJJJJJJJJJJJJJ',
    scope: 'approve:payments',
    task_id: 'manager',
    orch_id: 'orch-1',
    wf: 'expense-approval',
    principal: 'user:vp@acme.example',
    iid: 'AAAAAAAAAAAAAAAAAAAAAA',
    tdl: 1_750_003_600,
    rnw: 0,
    cnf: { jkt: rootKey.thumbprint },
  };

  it('from a root token: prv = SHA-256 of the token, dep 1, rt = the token facts', () => {
    const c = nextHopClaims({ token: 'tok', claims: base, holderKey: rootKey.publicJwk.x, to: B, toKey: bKey.publicJwk.x, scopes: [parseScope('approve:payments')], exp: 1_750_000_200 });
    expect(c).toEqual({
      iss: A,
      sub: B,
      k: bKey.publicJwk.x,
      scp: ['approve:payments'],
      exp: 1_750_000_200,
      prv: sha256B64url('tok'),
      dep: 1,
      pri: 'user:vp@acme.example',
      tsk: 'orch-1/manager',
      rt: { jti: base.jti, k: rootKey.publicJwk.x, scp: ['approve:payments'], exp: base.exp },
    });
  });

  it('from a delegated token: prv = its chain hash, dep + 1, root task from the innermost actor', () => {
    const C = agentSpiffeId('baton.local', 'orch-1', 'executor', 'CCCCCCCCCCCCCCCCCCCCCC');
    const delegated = { ...base, sub: B, del: { ch: H, d: 1, root: {} }, act: { sub: A } };
    const c = nextHopClaims({ token: 'tok', claims: delegated, holderKey: bKey.publicJwk.x, to: C, toKey: rootKey.publicJwk.x, scopes: [parseScope('approve:payments')], exp: 1_750_000_100 });
    expect(c).toMatchObject({ iss: B, sub: C, prv: H, dep: 2, tsk: 'orch-1/manager' });
    expect(c.rt).toBeUndefined();
    expect(rootTaskOf(B)).toBe('orch-1/intern');
  });
});
