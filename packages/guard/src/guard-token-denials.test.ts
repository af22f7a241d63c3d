import { publicJwkOf, generateKeyPair, b64urlEncode, type ErrorCode } from '@baton/core';
import { describe, expect, it } from 'vitest';
import type { KeySource } from './key-source.js';
import { HTU, fixture, hs256, rawJws, type Fixture } from './testing/fixtures.js';
import { approve, codeOf, expiredBy, now, setup } from './testing/guard-setup.js';

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
