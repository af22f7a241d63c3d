import { describe, expect, it } from 'vitest';
import { isBatonError } from './errors.js';
import { generateKeyPair } from './keys.js';
import { randomId } from './random.js';
import { ACCESS_TOKEN_TYP, DEFAULT_LEEWAY_SECONDS, checkTokenTimes, parseAccessTokenClaims, scopesOfClaims, type AccessTokenClaims } from './token.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton:${(err as Error).name}`;
  }
  return undefined;
}

const NOW_S = 1_700_000_000;
const NOW = NOW_S * 1000;
const kp = generateKeyPair();

function valid(): Record<string, unknown> {
  return {
    iss: 'https://authority.acme.example',
    sub: 'spiffe://acme.example/agent/invoice-run-7/approve-42/inst0123456789abcdef',
    aud: 'payments',
    exp: NOW_S + 300,
    iat: NOW_S,
    nbf: NOW_S,
    jti: randomId(),
    scope: 'read:invoices write:payments:inv/2024/*',
    task_id: 'approve-42',
    orch_id: 'invoice-run-7',
    wf: 'invoice-flow',
    principal: 'user:vp@acme.example',
    iid: 'inst0123456789abcdef',
    tdl: NOW_S + 3600,
    rnw: 0,
    cnf: { jkt: kp.thumbprint },
  };
}

describe('constants', () => {
  it('match RFC 9068 and the design', () => {
    expect(ACCESS_TOKEN_TYP).toBe('at+jwt');
    expect(DEFAULT_LEEWAY_SECONDS).toBe(30);
  });
});

describe('parseAccessTokenClaims', () => {
  it('returns the known claims and drops unknown ones', () => {
    const input = { ...valid(), extra: 'ignored', client_id: 'x' };
    const c = parseAccessTokenClaims(input);
    const { extra: _e, client_id: _c, ...known } = input;
    expect(c).toEqual(known);
    expect(c).not.toBe(input);
    expect(Object.hasOwn(c, 'extra')).toBe(false);
  });

  it('parses the scope string into scopes', () => {
    const c = parseAccessTokenClaims(valid());
    expect(scopesOfClaims(c)).toEqual([
      { action: 'read', resource: 'invoices' },
      { action: 'write', resource: 'payments', id: 'inv/2024/*' },
    ]);
  });

  it('prefers structured scopes when present', () => {
    const scopes = [{ action: 'write', resource: 'payments', constraints: { amount: { max: 5000 } } }];
    const c = parseAccessTokenClaims({ ...valid(), scope: 'write:payments', scopes });
    expect(c.scopes).toEqual(scopes);
    expect(scopesOfClaims(c)).toEqual(scopes);
  });

  it('accepts aud arrays, x5t#S256 binding, delegation and act claims', () => {
    const c = parseAccessTokenClaims({
      ...valid(),
      aud: ['payments', 'ledger'],
      cnf: { 'x5t#S256': kp.thumbprint },
      del: { ch: 'chain-hash-value', d: 2, hops: [{ a: 1 }], ref: 'r1', root: { jti: 'x' } },
      act: { sub: 'spiffe://acme.example/agent/o/t/inst0123456789abcdef', act: { sub: 'spiffe://acme.example/agent/o/t0/inst0123456789abcdeg' } },
    });
    expect(c.aud).toEqual(['payments', 'ledger']);
    expect(c.cnf).toEqual({ 'x5t#S256': kp.thumbprint });
    expect(c.del).toEqual({ ch: 'chain-hash-value', d: 2, hops: [{ a: 1 }], ref: 'r1', root: { jti: 'x' } });
    expect(c.act?.act?.sub).toBe('spiffe://acme.example/agent/o/t0/inst0123456789abcdeg');
  });

  it.each(['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'scope', 'task_id', 'orch_id', 'wf', 'principal', 'iid', 'tdl', 'rnw', 'cnf'])(
    'requires %s',
    (claim) => {
      const p = valid();
      delete p[claim];
      expect(codeOf(() => parseAccessTokenClaims(p))).toBe('ERR_TOKEN_CLAIMS_INVALID');
    },
  );

  let deepAct: Record<string, unknown> = { sub: 'a' };
  for (let i = 0; i < 40; i++) deepAct = { sub: 'a', act: deepAct };

  it.each<[string, Record<string, unknown>]>([
    ['iss empty', { iss: '' }],
    ['iss number', { iss: 7 }],
    ['iss with control character', { iss: 'https://a.example\n' }],
    ['sub not a SPIFFE ID', { sub: 'https://acme.example/agent' }],
    ['sub with uppercase scheme', { sub: 'SPIFFE://acme.example/agent/o/t/inst0123456789abcdef' }],
    ['aud empty array', { aud: [] }],
    ['aud number', { aud: 5 }],
    ['aud array with a number', { aud: ['a', 1] }],
    ['exp string', { exp: String(NOW_S + 300) }],
    ['exp fractional', { exp: NOW_S + 300.5 }],
    ['exp negative', { exp: -1 }],
    ['exp beyond year 9999', { exp: 1e12 }],
    ['iat after exp', { iat: NOW_S + 301 }],
    ['nbf after exp', { nbf: NOW_S + 301 }],
    ['jti too short (< 128 bits)', { jti: 'abcdefghijklmnopqrstu' }],
    ['jti with bad characters', { jti: 'abcdefghijklmnopqrstuvwxyz+/' }],
    ['jti number', { jti: 12345678901234567890123 }],
    ['scope malformed', { scope: 'read' }],
    ['scope double space', { scope: 'read:a  read:b' }],
    ['scope empty and no scopes', { scope: '' }],
    ['scope not a string', { scope: ['read:a'] }],
    ['scopes malformed', { scopes: [{ action: 'read', resource: 'a', extra: 1 }] }],
    ['scopes not an array', { scopes: 'read:a' }],
    ['task_id malformed', { task_id: '../etc' }],
    ['orch_id uppercase', { orch_id: 'Orch' }],
    ['wf empty', { wf: '' }],
    ['iid too short', { iid: 'short' }],
    ['principal too long', { principal: 'u'.repeat(257) }],
    ['tdl fractional', { tdl: 1.5 }],
    ['rnw negative', { rnw: -1 }],
    ['rnw string', { rnw: '0' }],
    ['cnf empty', { cnf: {} }],
    ['cnf jkt too short', { cnf: { jkt: 'abc' } }],
    ['cnf extra member', { cnf: { jkt: kp.thumbprint, kid: 'x' } }],
    ['cnf array', { cnf: [kp.thumbprint] }],
    ['del depth 0', { del: { ch: 'h', d: 0 } }],
    ['del without chain hash', { del: { d: 1 } }],
    ['del hops not an array', { del: { ch: 'h', d: 1, hops: {} } }],
    ['act without sub', { act: { act: { sub: 'a' } } }],
    ['act nested too deeply', { act: deepAct }],
  ])('rejects %s with ERR_TOKEN_CLAIMS_INVALID', (_n, over) => {
    expect(codeOf(() => parseAccessTokenClaims({ ...valid(), ...over }))).toBe('ERR_TOKEN_CLAIMS_INVALID');
  });

  it('rejects a payload that is not an object', () => {
    expect(codeOf(() => parseAccessTokenClaims(null as never))).toBe('ERR_TOKEN_CLAIMS_INVALID');
    expect(codeOf(() => parseAccessTokenClaims([] as never))).toBe('ERR_TOKEN_CLAIMS_INVALID');
  });
});

describe('scopesOfClaims', () => {
  it('returns a copy callers cannot use to change the memo', () => {
    const c = parseAccessTokenClaims(valid());
    scopesOfClaims(c).pop();
    expect(scopesOfClaims(c)).toHaveLength(2);
  });

  it('re-parses when the claims object was changed after parsing', () => {
    const c = parseAccessTokenClaims(valid());
    c.scope = 'read:invoices';
    expect(scopesOfClaims(c)).toEqual([{ action: 'read', resource: 'invoices' }]);
  });

  it('works on claims built by hand, and rejects malformed ones', () => {
    const c = { ...valid(), scope: 'read:a' } as unknown as AccessTokenClaims;
    expect(scopesOfClaims(c)).toEqual([{ action: 'read', resource: 'a' }]);
    expect(codeOf(() => scopesOfClaims({ ...c, scope: 'nope' }))).toBe('ERR_TOKEN_CLAIMS_INVALID');
  });
});

describe('checkTokenTimes (30 s leeway, injected time)', () => {
  const exp = NOW_S;
  it.each<[string, { exp: number; nbf?: number; iat?: number }, number, string | undefined]>([
    ['well before exp', { exp }, NOW - 60_000, undefined],
    ['exp passed, inside leeway', { exp }, NOW + 29_999, undefined],
    ['exp passed, exactly at leeway', { exp }, NOW + 30_000, 'ERR_TOKEN_EXPIRED'],
    ['exp passed, outside leeway', { exp }, NOW + 31_000, 'ERR_TOKEN_EXPIRED'],
    ['nbf in the future within leeway', { exp: exp + 600, nbf: NOW_S + 30 }, NOW, undefined],
    ['nbf in the future beyond leeway', { exp: exp + 600, nbf: NOW_S + 31 }, NOW, 'ERR_TOKEN_NOT_YET_VALID'],
    ['iat in the future beyond leeway', { exp: exp + 600, iat: NOW_S + 31 }, NOW, 'ERR_TOKEN_NOT_YET_VALID'],
    ['iat in the future within leeway', { exp: exp + 600, iat: NOW_S + 30 }, NOW, undefined],
  ])('%s', (_n, claims, nowMs, code) => {
    expect(codeOf(() => checkTokenTimes(claims, nowMs))).toBe(code);
  });

  it('honours a custom leeway', () => {
    expect(codeOf(() => checkTokenTimes({ exp }, NOW, 0))).toBe('ERR_TOKEN_EXPIRED');
    expect(codeOf(() => checkTokenTimes({ exp }, NOW - 1, 0))).toBeUndefined();
    expect(codeOf(() => checkTokenTimes({ exp }, NOW + 100_000, 120))).toBeUndefined();
  });

  it('treats a missing or non-numeric exp as invalid claims', () => {
    expect(codeOf(() => checkTokenTimes({} as never, NOW))).toBe('ERR_TOKEN_CLAIMS_INVALID');
    expect(codeOf(() => checkTokenTimes({ exp: Number.NaN }, NOW))).toBe('ERR_TOKEN_CLAIMS_INVALID');
  });

  it('rejects a bad clock or leeway as a programming error', () => {
    expect(() => checkTokenTimes({ exp }, Number.NaN)).toThrow(TypeError);
    expect(() => checkTokenTimes({ exp }, NOW, -1)).toThrow(TypeError);
  });
});
