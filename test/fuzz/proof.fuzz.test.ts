/**
 * Proofs of possession (DPoP-shaped, also the key proofs of operators and services):
 * `verifyProof` throws only BatonError on any input, accepts exactly what `createProof`
 * made (every claim as given), and refuses a proof with any byte flipped, inserted or
 * deleted — before that proof's `jti` is spent, so the intact proof still works after.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayCache, createProof, generateKeyPair, isBatonError, sha256B64url, verifyProof } from '@baton/core';
import { jwsish } from './support/arbitraries.js';
import { mutate, mutation } from './support/mutate.js';
import { NOW_MS } from './support/offline-authority.js';
import { TIMEOUT_MS, runs } from './support/runs.js';

const key = generateKeyPair();
const htu = fc.stringMatching(/^\/[A-Za-z0-9_.]{1,30}\/[A-Za-z0-9_]{1,20}$/);
const htm = fc.constantFrom('POST', 'GET', 'PUT', 'DELETE');
const hash = fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => sha256B64url(b));

describe('verifyProof', () => {
  it('throws nothing but BatonError on any input', () => {
    const headers = fc.record({ alg: fc.constantFrom('EdDSA', 'none'), typ: fc.constantFrom('dpop+jwt', 'jwt'), jwk: fc.oneof(fc.constant(key.publicJwk), fc.jsonValue()) });
    fc.assert(
      fc.property(jwsish(headers, fc.jsonValue()), (proof) => {
        try {
          verifyProof(proof, { htm: 'POST', htu: '/a.B/C', nowMs: NOW_MS, replayCache: new ReplayCache() });
          expect.unreachable('an arbitrary string verified');
        } catch (err) {
          expect(isBatonError(err)).toBe(true);
        }
      }),
      runs(5),
    );
  });

  it('round-trips: what createProof made verifies, with the claims it was given', () => {
    fc.assert(
      fc.property(htm, htu, fc.option(fc.string({ minLength: 1, maxLength: 200 }), { nil: undefined }), fc.option(hash, { nil: undefined }), (m, u, token, rh) => {
        const proof = createProof({ keyPair: key, htm: m, htu: u, nowMs: NOW_MS, ...(token ? { accessToken: token } : {}), ...(rh ? { requestHash: rh } : {}) });
        const v = verifyProof(proof, {
          htm: m,
          htu: u,
          nowMs: NOW_MS,
          expectedJkt: key.thumbprint,
          replayCache: new ReplayCache(),
          ...(token ? { accessTokenHash: sha256B64url(token) } : {}),
          ...(rh ? { requestHash: rh } : {}),
        });
        expect({ jkt: v.jkt, htm: v.claims.htm, htu: v.claims.htu, iat: v.claims.iat, ath: v.claims.ath, rh: v.claims.rh }).toEqual({
          jkt: key.thumbprint,
          htm: m,
          htu: u,
          iat: NOW_MS / 1000,
          ath: token ? sha256B64url(token) : undefined,
          rh,
        });
      }),
      runs(2),
    );
  });

  it(
    'refuses any mutated proof with an ERR_PROOF_ code, without spending the intact proof’s jti',
    () => {
      const cache = new ReplayCache({ maxEntries: 10_000_000 });
      fc.assert(
        fc.property(mutation, hash, (m, rh) => {
          const good = createProof({ keyPair: key, htm: 'POST', htu: '/baton.issuer.v1.IssuerService/Revoke', requestHash: rh, nowMs: NOW_MS });
          const bad = mutate(good, m);
          fc.pre(bad !== undefined);
          const opts = { htm: 'POST', htu: '/baton.issuer.v1.IssuerService/Revoke', nowMs: NOW_MS, expectedJkt: key.thumbprint, requestHash: rh, replayCache: cache };
          let code = 'accepted';
          try {
            verifyProof(bad!, opts);
          } catch (err) {
            code = isBatonError(err) ? err.code : 'not a BatonError';
          }
          expect(code).toMatch(/^ERR_PROOF_/);
          expect(verifyProof(good, opts).jkt).toBe(key.thumbprint);
        }),
        runs(2),
      );
    },
    TIMEOUT_MS,
  );
});
