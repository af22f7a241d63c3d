/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 */
import { describe, expect, it } from 'vitest';

// #region readme
import { ReplayCache, createProof, generateKeyPair, isBatonError, sha256B64url, verifyProof } from '@baton/core';

const caller = generateKeyPair(); // Ed25519, in memory; caller.thumbprint is the RFC 7638 thumbprint
const htu = '/baton.identity.v1.IdentityService/CreateWorkflow';
const body = new TextEncoder().encode('the exact request bytes');

// The caller signs one proof per call, bound to the method and to the request bytes (`rh`).
const proof = createProof({ keyPair: caller, htm: 'POST', htu, requestHash: sha256B64url(body) });

// The server checks structure, signature, method, freshness, the bytes, then single use.
const replayCache = new ReplayCache();
const verify = (expectedJkt?: string) => {
  try {
    return verifyProof(proof, { htm: 'POST', htu, nowMs: Date.now(), requestHash: sha256B64url(body), replayCache, ...(expectedJkt ? { expectedJkt } : {}) });
  } catch (err) {
    if (isBatonError(err)) return err.code; // stable code for the caller; err.detail is for the audit log
    throw err;
  }
};
const someoneElse = verify(generateKeyPair().thumbprint); // 'ERR_PROOF_KEY_MISMATCH' (and the jti is not consumed)
const first = verify(caller.thumbprint); // { jkt: caller.thumbprint, … }
const again = verify(caller.thumbprint); // 'ERR_PROOF_REPLAYED'
// #endregion

describe('README example: proof of possession', () => {
  it('accepts the proof once, for the key that made it', () => {
    expect(someoneElse).toBe('ERR_PROOF_KEY_MISMATCH');
    expect(typeof first === 'object' && first.jkt).toBe(caller.thumbprint);
    expect(typeof first === 'object' && first.claims).toMatchObject({ htm: 'POST', htu, rh: sha256B64url(body) });
    expect(again).toBe('ERR_PROOF_REPLAYED');
  });

  it('refuses the proof for other bytes or another method', () => {
    const fresh = new ReplayCache();
    const other = sha256B64url(new TextEncoder().encode('other bytes'));
    const codeOf = (f: () => unknown) => {
      try {
        f();
        return 'ok';
      } catch (err) {
        return isBatonError(err) ? err.code : 'not a BatonError';
      }
    };
    expect(codeOf(() => verifyProof(proof, { htm: 'POST', htu, nowMs: Date.now(), requestHash: other, replayCache: fresh }))).toBe('ERR_PROOF_REQUEST_MISMATCH');
    expect(codeOf(() => verifyProof(proof, { htm: 'POST', htu: `${htu}x`, nowMs: Date.now(), requestHash: sha256B64url(body), replayCache: fresh }))).toBe('ERR_PROOF_METHOD_MISMATCH');
    expect(codeOf(() => verifyProof(proof, { htm: 'POST', htu, nowMs: Date.now() + 120_000, requestHash: sha256B64url(body), replayCache: fresh }))).toBe('ERR_PROOF_STALE');
  });
});
