import { publicJwkOf, ReplayCache, sha256B64url, generateKeyPair, b64urlEncode, BatonError, type ErrorCode } from '@baton/core';
import { describe, expect, it, vi } from 'vitest';
import { createGuard, type Guard } from './create-guard.js';
import type { Decision, DecisionInfo } from './decision.js';
import { DEFAULT_GUARD_OPTIONS, type GuardOptions } from './guard-options.js';
import { staticKeys, type KeySource } from './key-source.js';
import type { RevocationView } from './plugins.js';
import { AUDIENCE, HTU, ISSUER, fixture, hs256, rawJws, type Fixture } from './testing/fixtures.js';

const approve = { action: 'approve', resource: 'invoice', attributes: { amount: 500 } };

function setup(extra: Partial<GuardOptions> = {}, f: Fixture = fixture()) {
  const replayCache = new ReplayCache({ maxEntries: 1000 });
  const decisions: [Decision, DecisionInfo][] = [];
  const guard = createGuard({
    audience: AUDIENCE,
    issuer: ISSUER,
    keys: staticKeys(new Map([[f.kid, f.issuerKey.publicKey]])),
    clock: f.clock,
    replayCache,
    onDecision: (d, i) => void decisions.push([d, i]),
    ...extra,
  });
  return { f, guard, replayCache, decisions };
}

async function codeOf(guard: Guard, input: Parameters<Guard['check']>[0]): Promise<ErrorCode | 'ALLOW'> {
  const d = await guard.check(input);
  return d.allow ? 'ALLOW' : d.code;
}

describe('createGuard: defaults and options', () => {
  it('has safe, frozen defaults', () => {
    expect(Object.isFrozen(DEFAULT_GUARD_OPTIONS)).toBe(true);
    expect(DEFAULT_GUARD_OPTIONS).toMatchObject({ leewaySeconds: 30, proof: 'required', proofMaxAgeSeconds: 60, maxTokenBytes: 8192 });
    const { guard } = setup();
    expect(guard.options.proof).toBe('required');
    expect(guard.options.leewaySeconds).toBe(30);
  });

  it.each([
    ['no audience', { audience: '' }],
    ['no issuer', { issuer: '' }],
    ['bad keys', { keys: {} as KeySource }],
    ['bad proof mode', { proof: 'bearer' as 'required' }],
    ['negative leeway', { leewaySeconds: -1 }],
    ['bad chain', { chain: {} as never }],
  ])('rejects %s with TypeError', (_n, over) => {
    const f = fixture();
    expect(() =>
      createGuard({ audience: AUDIENCE, issuer: ISSUER, keys: staticKeys(new Map([[f.kid, f.issuerKey.publicKey]])), ...over }),
    ).toThrow(TypeError);
  });
});

describe('guard.check: happy path', () => {
  it('allows a bound token with a fresh proof and reports who is calling', async () => {
    const { f, guard, decisions, replayCache } = setup();
    const token = f.mint();
    const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve });
    expect(d.allow).toBe(true);
    if (!d.allow) return;
    expect(d.subject).toMatch(/^spiffe:\/\/baton\.local\/agent\/orch-1\/task-1\//);
    expect(d.principal).toBe('user:vp@acme.example');
    expect(d.depth).toBe(0);
    expect(d.agents).toEqual([]);
    expect(d.bearer).toBe(false);
    expect(d.jkt).toBe(f.holder.thumbprint);
    expect(d.matched).toMatchObject({ action: 'approve', resource: 'invoice' });
    expect(replayCache.size).toBe(1);
    // Cached claims are deep-frozen: a handler cannot poison the token cache.
    expect(Object.isFrozen(d.claims) && Object.isFrozen(d.claims.aud) && Object.isFrozen(d.claims.cnf) && Object.isFrozen(d.scopes[1]!.constraints)).toBe(true);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]![1].claims?.jti).toBe(d.claims.jti);
  });

  it('re-checks time, proof and scope on a cached token (cache covers only the signature)', async () => {
    const { f, guard } = setup();
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
    expect(await codeOf(guard, { token, htm: 'POST', htu: HTU, request: approve })).toBe('ERR_PROOF_MISSING');
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: { ...approve, attributes: { amount: 9000 } } })).toBe(
      'ERR_CONSTRAINT_VIOLATED',
    );
    f.clock.advance(331_000);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_TOKEN_EXPIRED');
  });
});

describe('guard.check: bad tokens (issue 2 "Token")', () => {
  const cases: [string, (f: Fixture) => string | undefined, ErrorCode][] = [
    ['no token', () => undefined, 'ERR_TOKEN_MISSING'],
    ['empty token', () => '', 'ERR_TOKEN_MISSING'],
    ['oversized token', () => 'a'.repeat(8193), 'ERR_TOKEN_TOO_LARGE'],
    ['not a JWS', () => 'not-a-token', 'ERR_TOKEN_MALFORMED'],
    ['four segments', (f) => `${f.mint()}.x`, 'ERR_TOKEN_MALFORMED'],
    ['alg none', (f) => rawJws({ alg: 'none', typ: 'at+jwt', kid: f.kid }, f.claims(), () => ''), 'ERR_ALG_NOT_ALLOWED'],
    ['HS256 with a random secret', (f) => rawJws({ alg: 'HS256', typ: 'at+jwt', kid: f.kid }, f.claims(), (i) => hs256(i, 'secret')), 'ERR_ALG_NOT_ALLOWED'],
    [
      'HMAC with the public key as secret',
      (f) => rawJws({ alg: 'HS256', typ: 'at+jwt', kid: f.kid }, f.claims(), (i) => hs256(i, f.issuerKey.rawPublicKey)),
      'ERR_ALG_NOT_ALLOWED',
    ],
    [
      'HMAC with the JWK text as secret, alg claimed EdDSA',
      (f) => rawJws({ alg: 'EdDSA', typ: 'at+jwt', kid: f.kid }, f.claims(), (i) => hs256(i, JSON.stringify(publicJwkOf(f.issuerKey.publicKey)))),
      'ERR_TOKEN_MALFORMED',
    ],
    ['RS256', (f) => rawJws({ alg: 'RS256', typ: 'at+jwt', kid: f.kid }, f.claims(), () => 'AAAA'), 'ERR_ALG_NOT_ALLOWED'],
    ['unknown kid', (f) => f.mint({}, { kid: generateKeyPair().thumbprint }, generateKeyPair()), 'ERR_TOKEN_KID_UNKNOWN'],
    ['missing kid', (f) => f.mint({}, { kid: undefined }), 'ERR_TOKEN_MALFORMED'],
    ['kid with path characters', (f) => f.mint({}, { kid: '../../etc/passwd' }), 'ERR_TOKEN_MALFORMED'],
    ['known kid, signed by another key', (f) => f.mint({}, {}, generateKeyPair()), 'ERR_TOKEN_SIGNATURE_INVALID'],
    [
      'tampered payload (scope widened)',
      (f) => {
        const [h, , s] = f.mint().split('.');
        return `${h}.${b64urlEncode(JSON.stringify(f.claims({ scope: 'admin:*', scopes: undefined })))}.${s}`;
      },
      'ERR_TOKEN_SIGNATURE_INVALID',
    ],
    [
      'tampered signature',
      (f) => {
        const t = f.mint();
        return t.slice(0, -2) + (t.endsWith('AA') ? 'AQ' : 'AA');
      },
      'ERR_TOKEN_SIGNATURE_INVALID',
    ],
    ['typ JWT', (f) => f.mint({}, { typ: 'JWT' }), 'ERR_TOKEN_TYPE_INVALID'],
    ['typ application/at+jwt (exact match required)', (f) => f.mint({}, { typ: 'application/at+jwt' }), 'ERR_TOKEN_TYPE_INVALID'],
    ['typ missing', (f) => f.mint({}, { typ: undefined }), 'ERR_TOKEN_TYPE_INVALID'],
    ['a proof used as a token (typ dpop+jwt)', (f) => f.mint({}, { typ: 'dpop+jwt' }), 'ERR_TOKEN_TYPE_INVALID'],
    ['crit header', (f) => rawJws({ alg: 'EdDSA', typ: 'at+jwt', kid: f.kid, crit: ['exp'] }, f.claims(), () => 'A'.repeat(86)), 'ERR_TOKEN_MALFORMED'],
    ['no cnf', (f) => f.mint({ cnf: undefined }), 'ERR_TOKEN_CLAIMS_INVALID'],
    ['sub not a SPIFFE id', (f) => f.mint({ sub: 'agent-7' }), 'ERR_TOKEN_CLAIMS_INVALID'],
    ['short jti', (f) => f.mint({ jti: 'abc' }), 'ERR_TOKEN_CLAIMS_INVALID'],
    ['wrong issuer', (f) => f.mint({ iss: 'spiffe://evil.example/authority' }), 'ERR_TOKEN_ISSUER_INVALID'],
    ['wrong audience', (f) => f.mint({ aud: ['billing'] }), 'ERR_TOKEN_AUDIENCE_INVALID'],
    ['audience as a string, wrong', (f) => f.mint({ aud: 'billing' }), 'ERR_TOKEN_AUDIENCE_INVALID'],
    ['expired beyond the 30 s leeway', (f) => f.mint(expiredBy(f, 31)), 'ERR_TOKEN_EXPIRED'],
    ['expired exactly at the leeway', (f) => f.mint(expiredBy(f, 30)), 'ERR_TOKEN_EXPIRED'],
    ['nbf 31 s in the future', (f) => f.mint({ nbf: now(f) + 31 }), 'ERR_TOKEN_NOT_YET_VALID'],
    ['iat 31 s in the future', (f) => f.mint({ iat: now(f) + 31, nbf: now(f) + 31 }), 'ERR_TOKEN_NOT_YET_VALID'],
  ];

  it.each(cases.map(([n, make, code]) => [n, code, make] as const))('%s → %s', async (_name, code, make) => {
    const { f, guard, replayCache } = setup();
    const token = make(f);
    const proof = token ? f.prove(token) : undefined;
    expect(await codeOf(guard, { token, proof, htm: 'POST', htu: HTU, request: approve })).toBe(code);
    // A rejected token never consumes its proof.
    expect(replayCache.size).toBe(0);
  });

  it.each([
    ['expired 29 s ago (inside the leeway)', (f: Fixture) => expiredBy(f, 29)],
    ['nbf 29 s in the future (inside the leeway)', (f: Fixture) => ({ nbf: now(f) + 29 })],
  ])('%s → allowed', async (_n, over) => {
    const { f, guard } = setup();
    const token = f.mint(over(f));
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
  });

  it('denies a non-string token without throwing', async () => {
    const { guard } = setup();
    expect(await codeOf(guard, { token: 42 as unknown as string, htm: 'POST', htu: HTU, request: approve })).toBe('ERR_TOKEN_MALFORMED');
  });

  it('denies a token under a revoked kid, also once it is cached', async () => {
    const f = fixture();
    const revoked = new Set<string>();
    const keys: KeySource = { key: (kid) => (revoked.has(kid) ? 'revoked' : kid === f.kid ? f.issuerKey.publicKey : undefined) };
    const { guard } = setup({ keys }, f);
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
    revoked.add(f.kid);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_TOKEN_KEY_REVOKED');
  });

  it('checks structure before signature before claims before state (first failure wins)', async () => {
    const { f, guard } = setup({ revocation: { check: () => 'ERR_TOKEN_REVOKED' } });
    const other = generateKeyPair();
    const table: [string, ErrorCode][] = [
      [f.mint({ aud: ['billing'], exp: now(f) - 100, iat: now(f) - 200, nbf: now(f) - 200 }, { typ: 'JWT' }), 'ERR_TOKEN_TYPE_INVALID'],
      [f.mint({ iss: 'x:y' }, {}, other), 'ERR_TOKEN_SIGNATURE_INVALID'],
      [f.mint({ iss: 'x:y', aud: ['billing'] }), 'ERR_TOKEN_ISSUER_INVALID'],
      [f.mint({ aud: ['billing'], ...expiredBy(f, 100) }), 'ERR_TOKEN_AUDIENCE_INVALID'],
      [f.mint(expiredBy(f, 100)), 'ERR_TOKEN_EXPIRED'],
    ];
    for (const [token, code] of table) {
      expect(await codeOf(guard, { token, htm: 'POST', htu: HTU, request: { action: 'delete', resource: 'all' } })).toBe(code);
    }
    // Valid token, no proof: possession is checked before revocation and scope.
    const token = f.mint();
    expect(await codeOf(guard, { token, htm: 'POST', htu: HTU, request: { action: 'delete', resource: 'all' } })).toBe('ERR_PROOF_MISSING');
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: { action: 'delete', resource: 'all' } })).toBe(
      'ERR_TOKEN_REVOKED',
    );
  });
});

describe('guard.check: bad proofs (issue 2 "Proof")', () => {
  const cases: [string, (f: Fixture, token: string) => { proof?: string; htm?: string; htu?: string }, ErrorCode][] = [
    ['no proof at all', () => ({}), 'ERR_PROOF_MISSING'],
    ['garbage proof', () => ({ proof: 'x.y.z' }), 'ERR_PROOF_INVALID'],
    ['the access token as its own proof', (_f, t) => ({ proof: t }), 'ERR_PROOF_INVALID'],
    ['signed by another key', (f, t) => ({ proof: f.prove(t, { keyPair: generateKeyPair() }) }), 'ERR_PROOF_KEY_MISMATCH'],
    ['for another method', (f, t) => ({ proof: f.prove(t, { htm: 'GET' }) }), 'ERR_PROOF_METHOD_MISMATCH'],
    ['for another RPC', (f, t) => ({ proof: f.prove(t, { htu: '/acme.payments.v1.Payments/Refund' }) }), 'ERR_PROOF_METHOD_MISMATCH'],
    ['stale iat (61 s old)', (f, t) => ({ proof: f.prove(t, { nowMs: f.clock.now() - 61_000 }) }), 'ERR_PROOF_STALE'],
    ['iat 10 s in the future', (f, t) => ({ proof: f.prove(t, { nowMs: f.clock.now() + 10_000 }) }), 'ERR_PROOF_STALE'],
    ['bound to another token (ath)', (f, t) => ({ proof: f.prove(t, { accessToken: f.mint() }) }), 'ERR_PROOF_TOKEN_MISMATCH'],
    [
      'tampered proof signature',
      (f, t) => {
        const p = f.prove(t);
        return { proof: p.slice(0, -2) + (p.endsWith('AA') ? 'AQ' : 'AA') };
      },
      'ERR_PROOF_SIGNATURE_INVALID',
    ],
  ];

  it.each(cases.map(([n, make, code]) => [n, code, make] as const))('%s → %s', async (_name, code, make) => {
    const { f, guard, replayCache } = setup();
    const token = f.mint();
    const { proof } = make(f, token);
    expect(await codeOf(guard, { token, proof, htm: 'POST', htu: HTU, request: approve })).toBe(code);
    expect(replayCache.size).toBe(0);
  });

  it('denies a replayed proof', async () => {
    const { f, guard } = setup();
    const token = f.mint();
    const proof = f.prove(token);
    expect(await codeOf(guard, { token, proof, htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
    expect(await codeOf(guard, { token, proof, htm: 'POST', htu: HTU, request: approve })).toBe('ERR_PROOF_REPLAYED');
  });

  it('accepts a proof 59 s old (inside proofMaxAgeSeconds)', async () => {
    const { f, guard } = setup();
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token, { nowMs: f.clock.now() - 59_000 }), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
  });

  it('fails closed when the replay cache is full of live entries', async () => {
    const f = fixture();
    const { guard } = setup({ replayCache: new ReplayCache({ maxEntries: 1 }) }, f);
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_RATE_LIMITED');
  });
});

describe('guard.check: bearer mode and certificate binding', () => {
  it('bearer-allowed accepts a token without proof, flags it and counts it', async () => {
    const recordDecision = vi.fn();
    const { f, guard } = setup({ proof: 'bearer-allowed', meter: { recordDecision } });
    const token = f.mint();
    const d = await guard.check({ token, htm: 'POST', htu: HTU, request: approve });
    expect(d).toMatchObject({ allow: true, bearer: true });
    expect(recordDecision).toHaveBeenCalledWith(expect.objectContaining({ allow: true, bearer: true }));
  });

  it('bearer-allowed still verifies a proof that is presented', async () => {
    const { f, guard } = setup({ proof: 'bearer-allowed' });
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token, { keyPair: generateKeyPair() }), htm: 'POST', htu: HTU, request: approve })).toBe(
      'ERR_PROOF_KEY_MISMATCH',
    );
    const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve });
    expect(d).toMatchObject({ allow: true, bearer: false });
  });

  it('a route may opt in to bearer; anything but the exact mode stays required', async () => {
    const { f, guard } = setup();
    const token = f.mint();
    expect(await codeOf(guard, { token, htm: 'POST', htu: HTU, request: approve, route: { proof: 'bearer-allowed' } })).toBe('ALLOW');
    expect(await codeOf(guard, { token, htm: 'POST', htu: HTU, request: approve, route: { proof: 'Bearer' as 'required' } })).toBe('ERR_PROOF_MISSING');
  });

  it('certificate-bound tokens need the matching client certificate', async () => {
    const { f, guard } = setup();
    const thumb = sha256B64url('certificate-der-bytes');
    const token = f.mint({ cnf: { 'x5t#S256': thumb } });
    const base = { token, htm: 'POST', htu: HTU, request: approve };
    expect(await codeOf(guard, { ...base, certificateThumbprint: thumb })).toBe('ALLOW');
    expect(await codeOf(guard, { ...base, certificateThumbprint: sha256B64url('other') })).toBe('ERR_CERT_BINDING_MISMATCH');
    expect(await codeOf(guard, base)).toBe('ERR_CERT_BINDING_MISMATCH');
  });

  it('a token bound to both key and certificate needs both', async () => {
    const { f, guard } = setup();
    const thumb = sha256B64url('certificate-der-bytes');
    const token = f.mint({ cnf: { jkt: f.holder.thumbprint, 'x5t#S256': thumb } });
    const base = { token, htm: 'POST', htu: HTU, request: approve };
    expect(await codeOf(guard, { ...base, certificateThumbprint: thumb })).toBe('ERR_PROOF_MISSING');
    expect(await codeOf(guard, { ...base, proof: f.prove(token) })).toBe('ERR_CERT_BINDING_MISMATCH');
    expect(await codeOf(guard, { ...base, proof: f.prove(token), certificateThumbprint: thumb })).toBe('ALLOW');
  });
});

describe('guard.check: revocation, chain, high assurance, scope', () => {
  it.each<[ErrorCode]>([['ERR_TOKEN_REVOKED'], ['ERR_TOKEN_RELEASED'], ['ERR_REVOCATION_STALE'], ['ERR_TOKEN_KEY_REVOKED']])(
    'revocation view answering %s denies with that code and its explanation',
    async (code) => {
      const view: RevocationView = { check: vi.fn(() => code), explain: () => `because ${code}` };
      const { f, guard } = setup({ revocation: view });
      const token = f.mint();
      const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve });
      expect(d).toEqual({ allow: false, code, reason: `because ${code}` });
      expect(view.check).toHaveBeenCalledWith(expect.objectContaining({ jti: expect.any(String) }), { kid: f.kid });
    },
  );

  it('denies a delegated token when no chain verifier is configured', async () => {
    const { f, guard } = setup();
    const token = f.mint({ del: { ch: 'c'.repeat(43), d: 1 }, act: { sub: 'spiffe://baton.local/agent/orch-1/task-0/AAAAAAAAAAAAAAAAAAAAAA' } });
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_CHAIN_INVALID');
  });

  it('denies act without del even with a verifier', async () => {
    const { f, guard } = setup({ chain: { verify: () => ({ depth: 1, agents: [] }) } });
    const token = f.mint({ act: { sub: 'spiffe://baton.local/agent/o/t/AAAAAAAAAAAAAAAAAAAAAA' } });
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_CHAIN_INVALID');
  });

  it('runs the chain verifier and re-checks hop and agent revocations it reports', async () => {
    const parent = 'spiffe://baton.local/agent/orch-1/task-0/AAAAAAAAAAAAAAAAAAAAAA';
    const verify = vi.fn(() => ({ depth: 2, agents: [parent], hopHashes: ['h1', 'h2'], chainHash: 'ch' }));
    const revokedHops = new Set<string>();
    const view: RevocationView = { check: (_c, ctx) => (ctx?.hopHashes?.some((h) => revokedHops.has(h)) ? 'ERR_CHAIN_REVOKED' : undefined) };
    const { f, guard, decisions } = setup({ chain: { verify }, revocation: view });
    const token = f.mint({ del: { ch: 'c'.repeat(43), d: 2 } });
    const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve });
    expect(d).toMatchObject({ allow: true, depth: 2, agents: [parent] });
    expect(verify).toHaveBeenCalledWith(expect.objectContaining({ token, kid: f.kid, nowMs: f.clock.now(), leewaySeconds: 30 }));
    expect(decisions.at(-1)![1].chainHash).toBe('ch');
    revokedHops.add('h2');
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_CHAIN_REVOKED');
  });

  it.each<[string, () => never | { depth: number; agents: string[] }, ErrorCode]>([
    ['a broken link', () => { throw new BatonError('ERR_CHAIN_LINK_BROKEN', 'hop 2 prev mismatch'); }, 'ERR_CHAIN_LINK_BROKEN'],
    ['an unexpected exception', () => { throw new Error('boom'); }, 'ERR_INTERNAL'],
    ['a malformed result', () => ({ depth: 0, agents: [] }), 'ERR_CHAIN_INVALID'],
  ])('a chain verifier reporting %s denies with %s', async (_n, verify, code) => {
    const { f, guard } = setup({ chain: { verify } });
    const token = f.mint({ del: { ch: 'c'.repeat(43), d: 1 } });
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe(code);
  });

  it('high-assurance routes introspect online on every request, failing closed', async () => {
    const introspect = vi.fn(async () => ({ active: true }));
    const { f, guard } = setup({ highAssurance: { introspect } });
    const token = f.mint();
    const route = { highAssurance: true };
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ALLOW');
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ALLOW');
    expect(introspect).toHaveBeenCalledTimes(2);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
    expect(introspect).toHaveBeenCalledTimes(2);

    introspect.mockResolvedValueOnce({ active: false, code: 'ERR_TOKEN_RELEASED' } as never);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ERR_TOKEN_RELEASED');
    introspect.mockResolvedValueOnce({ active: false, code: 'nonsense' } as never);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ERR_TOKEN_REVOKED');
    introspect.mockRejectedValueOnce(new Error('issuer down'));
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ERR_INTROSPECTION_FAILED');
  });

  it('a high-assurance route without an introspector fails closed', async () => {
    const { f, guard } = setup();
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route: { highAssurance: true } })).toBe(
      'ERR_INTROSPECTION_FAILED',
    );
  });

  it.each<[string, Record<string, unknown> | undefined, { authenticateOnly?: boolean } | undefined, ErrorCode | 'ALLOW']>([
    ['an action the token lacks', { action: 'delete', resource: 'invoice' }, undefined, 'ERR_SCOPE_DENIED'],
    ['another resource', { action: 'read', resource: 'payroll' }, undefined, 'ERR_SCOPE_DENIED'],
    ['an amount above the constraint', { action: 'approve', resource: 'invoice', attributes: { amount: 6000 } }, undefined, 'ERR_CONSTRAINT_VIOLATED'],
    ['a missing constrained attribute', { action: 'approve', resource: 'invoice' }, undefined, 'ERR_CONSTRAINT_VIOLATED'],
    ['an amount at the constraint', { action: 'approve', resource: 'invoice', attributes: { amount: 5000 } }, undefined, 'ALLOW'],
    ['no request on a normal route', undefined, undefined, 'ERR_SCOPE_DENIED'],
    ['no request on an authenticate-only route', undefined, { authenticateOnly: true }, 'ALLOW'],
  ])('scope check: %s → %s', async (_n, request, route, code) => {
    const { f, guard } = setup();
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: request as never, route })).toBe(code);
  });

  it('gives the precise reason to the decision hook, never more than code+reason on the deny', async () => {
    const { f, guard, decisions } = setup();
    const token = f.mint();
    const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: { action: 'approve', resource: 'invoice', attributes: { amount: 6000 } } });
    expect(Object.keys(d).sort()).toEqual(['allow', 'code', 'reason']);
    expect(d).toMatchObject({ allow: false, code: 'ERR_CONSTRAINT_VIOLATED' });
    expect(decisions[0]![0]).toBe(d);
    expect(decisions[0]![1].claims?.sub).toMatch(/^spiffe:/);
  });

  it('a throwing decision hook or meter does not change the decision', async () => {
    const f = fixture();
    const { guard } = setup(
      {
        onDecision: () => {
          throw new Error('audit down');
        },
        meter: {
          recordDecision: () => {
            throw new Error('metrics down');
          },
        },
      },
      f,
    );
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
  });
});

describe('guard.check: unknown kid refresh', () => {
  it('refreshes keys once on an unknown kid, rate-limited, then accepts the new key', async () => {
    const f = fixture();
    const rotated = generateKeyPair();
    const known = new Map([[f.kid, f.issuerKey.publicKey]]);
    let publish = false;
    const refresh = vi.fn(async () => {
      if (publish) known.set(rotated.thumbprint, rotated.publicKey);
      return true;
    });
    const { guard } = setup({ keys: { key: (kid) => known.get(kid), refresh } }, f);
    const mintRotated = (): string => f.mint({}, { kid: rotated.thumbprint }, rotated);

    let t = mintRotated();
    expect(await codeOf(guard, { token: t, proof: f.prove(t), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_TOKEN_KID_UNKNOWN');
    expect(refresh).toHaveBeenCalledTimes(1);
    // A flood of unknown kids within 10 s causes no further refresh.
    for (let i = 0; i < 5; i++) {
      const junk = f.mint({}, { kid: generateKeyPair().thumbprint });
      expect(await codeOf(guard, { token: junk, htm: 'POST', htu: HTU, request: approve })).toBe('ERR_TOKEN_KID_UNKNOWN');
    }
    expect(refresh).toHaveBeenCalledTimes(1);

    publish = true;
    f.clock.advance(10_000);
    t = mintRotated();
    expect(await codeOf(guard, { token: t, proof: f.prove(t), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('concurrent unknown-kid requests share one refresh', async () => {
    const f = fixture();
    let release!: () => void;
    const refresh = vi.fn(() => new Promise<boolean>((r) => (release = () => r(true))));
    const { guard } = setup({ keys: { key: (kid) => (kid === f.kid ? f.issuerKey.publicKey : undefined), refresh } }, f);
    const other = generateKeyPair();
    const tokens = [1, 2, 3].map(() => f.mint({}, { kid: other.thumbprint }, other));
    const pending = tokens.map((token) => guard.check({ token, htm: 'POST', htu: HTU, request: approve }));
    await Promise.resolve();
    release();
    const out = await Promise.all(pending);
    expect(out.map((d) => (d.allow ? 'ALLOW' : d.code))).toEqual(['ERR_TOKEN_KID_UNKNOWN', 'ERR_TOKEN_KID_UNKNOWN', 'ERR_TOKEN_KID_UNKNOWN']);
    expect(refresh).toHaveBeenCalledTimes(1);
  });
});

function now(f: Fixture): number {
  return Math.floor(f.clock.now() / 1000);
}

/** Claims of a token whose exp lies `s` seconds in the past. */
function expiredBy(f: Fixture, s: number): Record<string, unknown> {
  const n = now(f);
  return { exp: n - s, iat: n - s - 300, nbf: n - s - 300, tdl: n + 3600 };
}
