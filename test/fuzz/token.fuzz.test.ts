/**
 * Access tokens and the guard that verifies them. For any input the parsers throw only
 * BatonError and the guard answers a coded denial; no flipped, inserted or deleted byte
 * anywhere in a valid token — root or delegated at any depth — gets past the guard even
 * with a fresh valid proof; and claims round-trip through signing and parsing.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeJws, isBatonError, isErrorCode, parseAccessTokenClaims, parseScopes } from '@baton/core';
import { agentId, jwsish, validScopes } from './support/arbitraries.js';
import { mutate, mutation } from './support/mutate.js';
import { HTU, chain, claimsFor, fuzzGuard, holder, proofFor, signToken } from './support/offline-authority.js';
import { TIMEOUT_MS, runs } from './support/runs.js';

const guard = fuzzGuard();
const scopes = parseScopes([{ action: 'approve', resource: 'invoice', id: '*', constraints: { amount: { max: 5000, min: 0 } } }, 'read:invoice:*']);
const request = { action: 'approve', resource: 'invoice', id: 'inv-1', attributes: { amount: 100 } };
const links = chain(3, scopes);
const CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'scope', 'scopes', 'task_id', 'orch_id', 'wf', 'principal', 'iid', 'tdl', 'rnw', 'cnf', 'del', 'act'];

const check = (token: string, proof: string) => guard.check({ token, proof, htm: 'POST', htu: HTU, request });

/** Valid claims with one claim replaced by arbitrary JSON (reaches every claim check). */
const tamperedClaims = fc.tuple(fc.constantFrom(...CLAIMS), fc.jsonValue()).map(([name, value]) => ({ ...claimsFor(links[0]!.holder, scopes), [name]: value }));
const headers = fc.record({ alg: fc.constantFrom('EdDSA', 'none', 'HS256'), typ: fc.constantFrom('at+jwt', 'JWT'), kid: fc.oneof(fc.string(), fc.constant(links[0]!.token.length.toString())) });

describe('access-token parsers on hostile input', () => {
  it('decodeJws and parseAccessTokenClaims throw nothing but BatonError', () => {
    fc.assert(
      fc.property(jwsish(headers, fc.oneof(tamperedClaims, fc.jsonValue())), (s) => {
        try {
          parseAccessTokenClaims(decodeJws(s).payload);
        } catch (err) {
          expect(isBatonError(err)).toBe(true);
        }
      }),
      runs(10),
    );
  });

  it('parseAccessTokenClaims refuses or keeps the invariants, whatever one claim is replaced by', () => {
    fc.assert(
      fc.property(tamperedClaims, (payload) => {
        try {
          const c = parseAccessTokenClaims(payload);
          expect(c.iat <= c.exp && c.nbf <= c.exp && typeof c.cnf === 'object').toBe(true);
        } catch (err) {
          expect(isBatonError(err) && err.code === 'ERR_TOKEN_CLAIMS_INVALID').toBe(true);
        }
      }),
      runs(10),
    );
  });
});

describe('the guard', () => {
  it('allows every honest token of the chain, so the properties below test the mutation', async () => {
    for (const l of links) expect((await check(l.token, proofFor(l.holder, l.token))).allow).toBe(true);
  });

  it('answers arbitrary token and proof strings with a coded denial, never a throw', async () => {
    await fc.assert(
      fc.asyncProperty(jwsish(headers, tamperedClaims), fc.oneof(fc.string(), jwsish(headers, fc.jsonValue())), async (token, proof) => {
        const d = await check(token, proof);
        expect(d.allow).toBe(false);
        if (!d.allow) expect(isErrorCode(d.code) && d.code !== 'ERR_INTERNAL').toBe(true);
      }),
      runs(3),
    );
  });

  it(
    'never allows a token with a flipped, inserted or deleted byte (root and delegated, depth 0–3), even with a fresh proof',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: links.length - 1 }), mutation, async (depth, m) => {
          const link = links[depth]!;
          const token = mutate(link.token, m);
          fc.pre(token !== undefined);
          const d = await check(token!, proofFor(link.holder, token!));
          expect(d.allow).toBe(false);
          if (!d.allow) expect(d.code).toMatch(/^ERR_(TOKEN|ALG|CHAIN)_/);
        }),
        runs(2),
      );
    },
    TIMEOUT_MS,
  );

  it('never allows a valid token under a mutated proof', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: links.length - 1 }), mutation, async (depth, m) => {
        const link = links[depth]!;
        const proof = mutate(proofFor(link.holder, link.token), m);
        fc.pre(proof !== undefined);
        const d = await check(link.token, proof!);
        expect(d.allow).toBe(false);
        if (!d.allow) expect(d.code).toMatch(/^ERR_PROOF_/);
      }),
      runs(2),
    );
  }, TIMEOUT_MS);
});

describe('claims round-trip', () => {
  it('parse(sign(claims)) returns the claims that were signed', () => {
    fc.assert(
      fc.property(agentId, validScopes, (id, granted) => {
        const h = { ...holder(), id: id.uri };
        const payload = claimsFor(h, granted);
        const parsed = parseAccessTokenClaims(decodeJws(signToken(payload)).payload);
        expect(parsed).toEqual(payload);
      }),
      runs(3),
    );
  });
});
