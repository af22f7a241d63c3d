import crypto from 'node:crypto';
import { EmbeddedJWK, SignJWT, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { b64urlEncode } from './encoding.js';
import { isBatonError } from './errors.js';
import { sha256B64url } from './hash.js';
import { signCompact, signJws } from './jws.js';
import { generateKeyPair, type KeyPair } from './keys.js';
import { PROOF_TYP, createProof, verifyProof, type VerifyProofOptions } from './pop.js';
import { ReplayCache } from './replay-cache.js';

const NOW = 1_700_000_000_000;
const NOW_S = NOW / 1000;
const HTM = 'POST';
const HTU = 'https://pay.example/v1/payments';
const TOKEN = 'eyJ.token.value';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton:${(err as Error).name}`;
  }
  return undefined;
}

const alice = generateKeyPair();
const mallory = generateKeyPair();

function opts(over: Partial<VerifyProofOptions> = {}): VerifyProofOptions {
  return { htm: HTM, htu: HTU, nowMs: NOW, replayCache: new ReplayCache(), ...over };
}

let jtiCounter = 0;
function payload(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { jti: `jti-${String(++jtiCounter).padStart(20, '0')}`, htm: HTM, htu: HTU, iat: NOW_S, ...over };
}

/** A proof with arbitrary header and payload, signed by `signer` (default alice). */
function craft(header: Record<string, unknown>, body: Record<string, unknown>, signer: KeyPair = alice): string {
  return signJws(header, body, signer.privateKey);
}
const hdr = (kp: KeyPair = alice, over: Record<string, unknown> = {}) => ({ typ: PROOF_TYP, jwk: { ...kp.publicJwk }, ...over });

describe('createProof / verifyProof', () => {
  it('accepts a fresh proof and reports the key and claims', () => {
    const proof = createProof({ keyPair: alice, htm: HTM, htu: HTU, accessToken: TOKEN, requestHash: sha256B64url('{}'), nowMs: NOW });
    const v = verifyProof(proof, opts({ expectedJkt: alice.thumbprint, accessTokenHash: sha256B64url(TOKEN), requestHash: sha256B64url('{}') }));
    expect(v.jkt).toBe(alice.thumbprint);
    expect(v.jwk).toEqual(alice.publicJwk);
    expect(v.publicKey.equals(alice.publicKey)).toBe(true);
    expect(v.claims).toMatchObject({ htm: HTM, htu: HTU, iat: NOW_S, ath: sha256B64url(TOKEN), rh: sha256B64url('{}') });
    expect(v.claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('puts exactly typ, alg and jwk in the header', () => {
    const proof = createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW });
    const header = JSON.parse(Buffer.from(proof.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: { kty: 'OKP', crv: 'Ed25519', x: alice.publicJwk.x } });
  });

  it('uses a new jti for every proof', () => {
    const a = verifyProof(createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW }), opts());
    const b = verifyProof(createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW }), opts());
    expect(a.claims.jti).not.toBe(b.claims.jti);
  });

  it('rejects caller mistakes with TypeError', () => {
    expect(() => createProof({ keyPair: {} as KeyPair, htm: HTM, htu: HTU })).toThrow(TypeError);
    expect(() => createProof({ keyPair: alice, htm: '', htu: HTU })).toThrow(TypeError);
    expect(() => verifyProof('x', { ...opts(), replayCache: undefined as never })).toThrow(TypeError);
    expect(() => verifyProof('x', opts({ nowMs: Number.NaN }))).toThrow(TypeError);
  });
});

describe('verifyProof attack table', () => {
  const identity = Buffer.from([1, ...new Array<number>(31).fill(0)]);
  const identityProof = signCompact(
    b64urlEncode(JSON.stringify({ alg: 'EdDSA', typ: PROOF_TYP, jwk: { kty: 'OKP', crv: 'Ed25519', x: identity.toString('base64url') } })),
    b64urlEncode(JSON.stringify(payload())),
    alice.privateKey,
  ).replace(/\.[^.]+$/, `.${b64urlEncode(Buffer.concat([identity, Buffer.alloc(32)]))}`);
  const good = () => createProof({ keyPair: alice, htm: HTM, htu: HTU, accessToken: TOKEN, nowMs: NOW });
  const tampered = () => {
    const [h, , s] = good().split('.');
    return `${h}.${b64urlEncode(JSON.stringify(payload({ htu: 'https://pay.example/v1/refunds' })))}.${s}`;
  };
  const noneProof = `${b64urlEncode(JSON.stringify({ alg: 'none', typ: PROOF_TYP, jwk: alice.publicJwk }))}.${b64urlEncode(JSON.stringify(payload()))}.`;
  const hsInput = `${b64urlEncode(JSON.stringify({ alg: 'HS256', typ: PROOF_TYP, jwk: alice.publicJwk }))}.${b64urlEncode(JSON.stringify(payload()))}`;
  const hsProof = `${hsInput}.${b64urlEncode(crypto.createHmac('sha256', alice.rawPublicKey).update(hsInput).digest())}`;

  it.each<[string, string, () => unknown, Partial<VerifyProofOptions>]>([
    ['no proof (undefined)', 'ERR_PROOF_MISSING', () => undefined, {}],
    ['no proof (empty)', 'ERR_PROOF_MISSING', () => '', {}],
    ['no proof (null)', 'ERR_PROOF_MISSING', () => null, {}],
    ['not a string', 'ERR_PROOF_INVALID', () => ({ proof: 1 }), {}],
    ['garbage', 'ERR_PROOF_INVALID', () => 'not.a.jws', {}],
    ['alg none', 'ERR_PROOF_INVALID', () => noneProof, {}],
    ['HS256 keyed with the public key', 'ERR_PROOF_INVALID', () => hsProof, {}],
    ['typ missing', 'ERR_PROOF_INVALID', () => craft({ jwk: alice.publicJwk }, payload()), {}],
    ['typ at+jwt (a token used as a proof)', 'ERR_PROOF_INVALID', () => craft(hdr(alice, { typ: 'at+jwt' }), payload()), {}],
    ['typ in other case', 'ERR_PROOF_INVALID', () => craft(hdr(alice, { typ: 'DPOP+JWT' }), payload()), {}],
    ['jwk missing', 'ERR_PROOF_INVALID', () => craft({ typ: PROOF_TYP }, payload()), {}],
    ['jwk with private d', 'ERR_PROOF_INVALID', () => craft(hdr(alice, { jwk: { ...alice.publicJwk, d: 'AAAA' } }), payload()), {}],
    ['jwk RSA', 'ERR_PROOF_INVALID', () => craft(hdr(alice, { jwk: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }), payload()), {}],
    ['jwk X25519', 'ERR_PROOF_INVALID', () => craft(hdr(alice, { jwk: { ...alice.publicJwk, crv: 'X25519' } }), payload()), {}],
    ['jwk small-order (identity) with forged signature', 'ERR_PROOF_INVALID', () => identityProof, {}],
    ['extra header member kid', 'ERR_PROOF_INVALID', () => craft(hdr(alice, { kid: 'k' }), payload()), {}],
    ['extra header member jku', 'ERR_PROOF_INVALID', () => craft(hdr(alice, { jku: 'https://evil.example/jwks' }), payload()), {}],
    ['jti missing', 'ERR_PROOF_INVALID', () => craft(hdr(), payload({ jti: undefined })), {}],
    ['jti too short', 'ERR_PROOF_INVALID', () => craft(hdr(), payload({ jti: 'abc' })), {}],
    ['htm not a string', 'ERR_PROOF_INVALID', () => craft(hdr(), payload({ htm: 1 })), {}],
    ['iat a string', 'ERR_PROOF_INVALID', () => craft(hdr(), payload({ iat: String(NOW_S) })), {}],
    ['iat fractional', 'ERR_PROOF_INVALID', () => craft(hdr(), payload({ iat: NOW_S + 0.5 })), {}],
    ['ath malformed', 'ERR_PROOF_INVALID', () => craft(hdr(), payload({ ath: 'x' })), {}],
    ['proof by another key (cnf.jkt mismatch)', 'ERR_PROOF_KEY_MISMATCH', () => createProof({ keyPair: mallory, htm: HTM, htu: HTU, nowMs: NOW }), { expectedJkt: alice.thumbprint }],
    ["alice's jwk, mallory's signature", 'ERR_PROOF_SIGNATURE_INVALID', () => craft(hdr(alice), payload(), mallory), { expectedJkt: alice.thumbprint }],
    ['tampered payload', 'ERR_PROOF_SIGNATURE_INVALID', tampered, {}],
    ['wrong htm', 'ERR_PROOF_METHOD_MISMATCH', () => createProof({ keyPair: alice, htm: 'GET', htu: HTU, nowMs: NOW }), {}],
    ['wrong htu', 'ERR_PROOF_METHOD_MISMATCH', () => createProof({ keyPair: alice, htm: HTM, htu: `${HTU}/x`, nowMs: NOW }), {}],
    ['stale iat (61 s old)', 'ERR_PROOF_STALE', () => createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW - 61_000 }), {}],
    ['future iat beyond leeway (6 s)', 'ERR_PROOF_STALE', () => createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW + 6_000 }), {}],
    ['stale under a shorter maxAge', 'ERR_PROOF_STALE', () => createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW - 11_000 }), { maxAgeSeconds: 10 }],
    ['ath missing', 'ERR_PROOF_TOKEN_MISMATCH', () => createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW }), { accessTokenHash: sha256B64url(TOKEN) }],
    ['ath of another token', 'ERR_PROOF_TOKEN_MISMATCH', () => createProof({ keyPair: alice, htm: HTM, htu: HTU, accessToken: 'other', nowMs: NOW }), { accessTokenHash: sha256B64url(TOKEN) }],
    ['rh missing', 'ERR_PROOF_REQUEST_MISMATCH', () => createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW }), { requestHash: sha256B64url('{"a":1}') }],
    ['rh of another body', 'ERR_PROOF_REQUEST_MISMATCH', () => createProof({ keyPair: alice, htm: HTM, htu: HTU, requestHash: sha256B64url('{"a":2}'), nowMs: NOW }), { requestHash: sha256B64url('{"a":1}') }],
  ])('%s → %s', (_name, code, make, over) => {
    expect(codeOf(() => verifyProof(make(), opts(over)))).toBe(code);
  });

  it('accepts the boundaries: iat exactly maxAge old and exactly leeway ahead', () => {
    expect(verifyProof(createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW - 60_000 }), opts()).claims.iat).toBe(NOW_S - 60);
    expect(verifyProof(createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW + 5_000 }), opts()).claims.iat).toBe(NOW_S + 5);
  });

  it('a header that fails the proof checks fails every time (it is never remembered as good)', () => {
    for (let i = 0; i < 3; i++) {
      expect(codeOf(() => verifyProof(craft(hdr(alice, { typ: 'jwt' }), payload()), opts()))).toBe('ERR_PROOF_INVALID');
    }
  });

  it('the unmodified proof passes, so the table tests the mutation', () => {
    expect(verifyProof(good(), opts({ expectedJkt: alice.thumbprint, accessTokenHash: sha256B64url(TOKEN) })).jkt).toBe(alice.thumbprint);
  });
});

describe('replay', () => {
  it('rejects the second use of a proof', () => {
    const replayCache = new ReplayCache();
    const proof = createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW });
    verifyProof(proof, opts({ replayCache }));
    expect(codeOf(() => verifyProof(proof, opts({ replayCache, nowMs: NOW + 1_000 })))).toBe('ERR_PROOF_REPLAYED');
    // Still replayed at the last instant the proof would be accepted.
    expect(codeOf(() => verifyProof(proof, opts({ replayCache, nowMs: NOW + 60_000 })))).toBe('ERR_PROOF_REPLAYED');
    // Afterwards it is stale, whatever the cache holds.
    expect(codeOf(() => verifyProof(proof, opts({ replayCache, nowMs: NOW + 61_000 })))).toBe('ERR_PROOF_STALE');
  });

  it('a failed verification does not consume the jti', () => {
    const replayCache = new ReplayCache();
    const proof = createProof({ keyPair: alice, htm: HTM, htu: HTU, accessToken: TOKEN, nowMs: NOW });
    const failures: [Partial<VerifyProofOptions>, string][] = [
      [{ htu: `${HTU}/other` }, 'ERR_PROOF_METHOD_MISMATCH'],
      [{ accessTokenHash: sha256B64url('other') }, 'ERR_PROOF_TOKEN_MISMATCH'],
      [{ requestHash: sha256B64url('body') }, 'ERR_PROOF_REQUEST_MISMATCH'],
      [{ expectedJkt: mallory.thumbprint }, 'ERR_PROOF_KEY_MISMATCH'],
      [{ nowMs: NOW - 10_000 }, 'ERR_PROOF_STALE'],
    ];
    for (const [over, code] of failures) expect(codeOf(() => verifyProof(proof, opts({ replayCache, ...over })))).toBe(code);
    expect(replayCache.size).toBe(0);
    expect(verifyProof(proof, opts({ replayCache, accessTokenHash: sha256B64url(TOKEN) })).jkt).toBe(alice.thumbprint);
    expect(codeOf(() => verifyProof(proof, opts({ replayCache })))).toBe('ERR_PROOF_REPLAYED');
  });

  it('keys the cache by key and jti, so equal jtis from two keys are independent', () => {
    const replayCache = new ReplayCache();
    const body = payload();
    verifyProof(craft(hdr(alice), body, alice), opts({ replayCache }));
    expect(verifyProof(craft(hdr(mallory), body, mallory), opts({ replayCache })).jkt).toBe(mallory.thumbprint);
  });

  it('refuses with ERR_RATE_LIMITED when the cache is full of live entries', () => {
    const replayCache = new ReplayCache({ maxEntries: 2 });
    for (let i = 0; i < 2; i++) verifyProof(createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW }), opts({ replayCache }));
    const third = createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW });
    expect(codeOf(() => verifyProof(third, opts({ replayCache })))).toBe('ERR_RATE_LIMITED');
    expect(replayCache.size).toBe(2);
  });
});

describe('key cache', () => {
  it('imports each key once and reuses it', () => {
    const store = new Map<string, crypto.KeyObject>();
    let sets = 0;
    const keyCache = {
      get: (x: string) => store.get(x),
      set: (x: string, k: crypto.KeyObject) => {
        sets++;
        store.set(x, k);
      },
    };
    for (let i = 0; i < 3; i++) verifyProof(createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: NOW }), opts({ keyCache }));
    expect(sets).toBe(1);
    expect(store.get(alice.publicJwk.x)?.equals(alice.publicKey)).toBe(true);
  });

  it('does not import a key whose thumbprint does not match', () => {
    let sets = 0;
    const keyCache = { get: () => undefined, set: () => void sets++ };
    const proof = createProof({ keyPair: mallory, htm: HTM, htu: HTU, nowMs: NOW });
    expect(codeOf(() => verifyProof(proof, opts({ keyCache, expectedJkt: alice.thumbprint })))).toBe('ERR_PROOF_KEY_MISMATCH');
    expect(sets).toBe(0);
  });
});

describe('interop with jose', () => {
  it('accepts a DPoP proof made with jose SignJWT', async () => {
    const proof = await new SignJWT({ jti: 'jose-proof-0000000001', htm: HTM, htu: HTU, iat: NOW_S })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'dpop+jwt', jwk: { ...alice.publicJwk } })
      .sign(alice.privateKey);
    expect(verifyProof(proof, opts({ expectedJkt: alice.thumbprint })).claims.jti).toBe('jose-proof-0000000001');
  });

  it('jose verifies our proof against its embedded key', async () => {
    const proof = createProof({ keyPair: alice, htm: HTM, htu: HTU, nowMs: Date.now() });
    const { payload: p, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(protectedHeader.typ).toBe('dpop+jwt');
    expect(p.htu).toBe(HTU);
  });
});
