/**
 * Delegation hops and the chain verifier. `decodeHop` throws only BatonError on any
 * input; hop claims round-trip through `signHop` and `decodeHop`; a compact hop with any
 * byte flipped, inserted or deleted either fails to decode or no longer verifies under
 * its signer's key; and a delegated token whose packed `del.hops` was altered — and then
 * re-signed by the authority with a chain hash recomputed to match, the worst case — is
 * denied by a resource server's guard unless the alteration left every hop byte-identical.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chainHash,
  decodeHop,
  encodeHopScopes,
  hopContextOf,
  importPublicJwk,
  isBatonError,
  parseAccessTokenClaims,
  parseScopes,
  sha256B64url,
  signBytes,
  signHop,
  unpackHops,
  verifyJws,
  type HopClaims,
} from '@baton/core';
import { agentId, b64, jwsish, validScopes } from './support/arbitraries.js';
import { mutate, mutation } from './support/mutate.js';
import { HTU, authorityKey, chain, fuzzGuard, holder, proofFor } from './support/offline-authority.js';
import { TIMEOUT_MS, runs } from './support/runs.js';

const scopes = parseScopes([{ action: 'approve', resource: 'invoice', id: '*', constraints: { amount: { max: 5000, min: 0 } } }, 'read:invoice:*']);
const links = chain(3, scopes);
const guard = fuzzGuard();
const request = { action: 'approve', resource: 'invoice', id: 'inv-1', attributes: { amount: 100 } };
const signer = holder();

const hash = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((b) => sha256B64url(b));
const numericDate = fc.integer({ min: 0, max: 253_402_300_799 });
const printable = fc.stringMatching(/^[\x21-\x7e]{1,40}$/);

/** Valid hop claims (hop 1 carries root facts, later hops do not). */
const hopClaims: fc.Arbitrary<HopClaims> = fc
  .record({ iss: agentId, sub: agentId, scopes: validScopes, exp: numericDate, prv: hash, dep: fc.integer({ min: 1, max: 16 }), pri: printable, root: validScopes, jti: fc.stringMatching(/^[A-Za-z0-9_-]{22,40}$/), rootExp: numericDate })
  .map((r) => ({
    iss: r.iss.uri,
    sub: r.sub.uri,
    k: holder().key.publicJwk.x,
    scp: encodeHopScopes(r.scopes),
    exp: r.exp,
    prv: r.prv,
    dep: r.dep,
    pri: r.pri,
    tsk: `${r.iss.orchestration}/${r.iss.task}`,
    ...(r.dep === 1 ? { rt: { jti: r.jti, k: signer.key.publicJwk.x, scp: encodeHopScopes(r.root), exp: r.rootExp } } : {}),
  }));

describe('decodeHop', () => {
  it('throws nothing but BatonError on any input', () => {
    const headers = fc.record({ alg: fc.constantFrom('EdDSA', 'none'), kid: fc.oneof(fc.constant(signer.key.thumbprint), fc.string()), typ: fc.constantFrom('baton-hop+jwt', 'at+jwt') });
    fc.assert(
      fc.property(jwsish(headers, fc.oneof(hopClaims, fc.jsonValue())), (s) => {
        try {
          decodeHop(s);
        } catch (err) {
          expect(isBatonError(err)).toBe(true);
        }
      }),
      runs(10),
    );
  });

  it('round-trips: decodeHop(signHop(claims)) has exactly those claims, signed by the signer', () => {
    const key = importPublicJwk(signer.key.publicJwk);
    fc.assert(
      fc.property(hopClaims, (claims) => {
        const hop = decodeHop(signHop(claims, signer.key));
        expect(hop.claims).toEqual(claims);
        expect(hop.kid).toBe(signer.key.thumbprint);
        expect(verifyJws(hop, key)).toBe(true);
      }),
      runs(3),
    );
  });

  it('a hop with any byte flipped, inserted or deleted fails to decode or to verify', () => {
    const key = importPublicJwk(signer.key.publicJwk);
    const hops = fc.sample(hopClaims, 8).map((c) => signHop(c, signer.key));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: hops.length - 1 }), mutation, (i, m) => {
        const bad = mutate(hops[i]!, m);
        fc.pre(bad !== undefined);
        let verified = false;
        try {
          verified = verifyJws(decodeHop(bad!), key);
        } catch (err) {
          expect(isBatonError(err)).toBe(true);
        }
        expect(verified).toBe(false);
      }),
      runs(5),
    );
  });
});

describe('the chain verifier behind a guard', () => {
  it('allows the honest delegated tokens, so the property below tests the alteration', async () => {
    for (const l of links.slice(1)) expect((await guard.check({ token: l.token, proof: proofFor(l.holder, l.token), htm: 'POST', htu: HTU, request })).allow).toBe(true);
  });

  it(
    'denies a token whose del.hops was altered, even re-signed by the authority with a matching chain hash',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 1, max: links.length - 1 }), mutation, async (depth, m) => {
          const link = links[depth]!;
          const text = Buffer.from(link.token.split('.')[1]!, 'base64url').toString('utf8');
          const start = text.indexOf('"hops":');
          const end = text.indexOf(',"ch":');
          const region = mutate(text.slice(start, end), m);
          fc.pre(region !== undefined);
          const altered = text.slice(0, start) + region + text.slice(end);
          let payloadText = altered;
          try {
            const payload = JSON.parse(altered) as { del: { ch: string; hops: unknown; root: { th: string } } };
            const claims = parseAccessTokenClaims(payload as unknown as Record<string, unknown>);
            const hops = unpackHops(payload.del.hops, hopContextOf(claims)).map((h) => h.compact);
            // Neutral alterations (e.g. JSON whitespace) rebuild the very hops that were signed.
            fc.pre(hops.join() !== link.hops.join());
            payload.del.ch = chainHash(payload.del.root.th, hops.map((h) => sha256B64url(h)));
            payloadText = JSON.stringify(payload);
          } catch (err) {
            if (!(err instanceof SyntaxError) && !isBatonError(err)) throw err;
          }
          const token = resignPayload(link.token, payloadText);
          const d = await guard.check({ token, proof: proofFor(link.holder, token), htm: 'POST', htu: HTU, request });
          expect(d.allow).toBe(false);
        }),
        runs(2),
      );
    },
    TIMEOUT_MS,
  );
});

/** `token` with its payload replaced by `payloadText` (as written), signed by the authority. */
function resignPayload(token: string, payloadText: string): string {
  const input = `${token.split('.')[0]!}.${b64(payloadText)}`;
  return `${input}.${b64(signBytes(Buffer.from(input, 'latin1'), authorityKey.privateKey))}`;
}
