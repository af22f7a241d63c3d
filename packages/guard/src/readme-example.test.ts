/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 * The setup plays the authority: it signs an access token for an agent key the way the
 * issuer does, and the agent makes its proof.
 */
import { describe, expect, it } from 'vitest';
import { createProof, generateKeyPair, randomId, signJws } from '@baton/core';

const authorityKey = generateKeyPair();
const agentKey = generateKeyPair();
// What IssuerService.GetKeys returns.
const jwks = { keys: [{ ...authorityKey.publicJwk, kid: authorityKey.thumbprint, alg: 'EdDSA', use: 'sig' }] };
const now = Math.floor(Date.now() / 1000);
const agentId = `spiffe://baton.local/agent/orch-1/inv-7/${randomId(16)}`;
const token = signJws(
  { typ: 'at+jwt', kid: authorityKey.thumbprint },
  {
    iss: 'spiffe://baton.local/authority',
    sub: agentId,
    aud: ['payments', 'spiffe://baton.local/authority'],
    iat: now,
    nbf: now,
    exp: now + 300,
    jti: randomId(16),
    scope: 'approve:payments',
    scopes: [{ action: 'approve', resource: 'payments', constraints: { amount: { max: 5000, min: 0 } } }],
    task_id: 'inv-7',
    orch_id: 'orch-1',
    wf: 'expense-approval',
    principal: 'user:vp@acme.example',
    iid: agentId.split('/').pop(),
    tdl: now + 3600,
    rnw: 0,
    cnf: { jkt: agentKey.thumbprint },
  },
  authorityKey.privateKey,
);
const proofFor = (htu: string) => createProof({ keyPair: agentKey, htm: 'POST', htu, accessToken: token });
const proof = proofFor('/acme.payments.v1.Payments/Approve');

// #region readme
import { createGuard, staticKeys } from '@baton/guard';

const guard = createGuard({
  audience: 'payments',
  issuer: 'spiffe://baton.local/authority',
  keys: staticKeys(jwks), // the JWKS of IssuerService.GetKeys; jwksFromIssuer(issuerClient) fetches and refreshes it
});

// token and proof: the call's `authorization: DPoP <token>` and `dpop` metadata.
const htu = '/acme.payments.v1.Payments/Approve';
const request = { action: 'approve', resource: 'payments', attributes: { amount: 4000 } };
const allowed = await guard.check({ token, proof, htm: 'POST', htu, request });
// { allow: true, subject: 'spiffe://baton.local/agent/orch-1/inv-7/…', principal: 'user:vp@acme.example', depth: 0, … }
const replayed = await guard.check({ token, proof, htm: 'POST', htu, request });
// { allow: false, code: 'ERR_PROOF_REPLAYED', reason: '…' }: send callers the code, keep the reason for the audit log
// #endregion

describe('README example: guard.check', () => {
  it('allows the bound token with a fresh proof, once', () => {
    expect(allowed).toMatchObject({ allow: true, subject: agentId, principal: 'user:vp@acme.example', depth: 0, bearer: false, jkt: agentKey.thumbprint });
    expect(replayed).toMatchObject({ allow: false, code: 'ERR_PROOF_REPLAYED' });
  });

  it('denies a request beyond the constraint, a proof for another method, and no proof', async () => {
    const over = await guard.check({ token, proof: proofFor(htu), htm: 'POST', htu, request: { ...request, attributes: { amount: 6000 } } });
    expect(over).toMatchObject({ allow: false, code: 'ERR_CONSTRAINT_VIOLATED' });
    const elsewhere = await guard.check({ token, proof: proofFor('/acme.payments.v1.Payments/Refund'), htm: 'POST', htu, request });
    expect(elsewhere).toMatchObject({ allow: false, code: 'ERR_PROOF_METHOD_MISMATCH' });
    expect(await guard.check({ token, htm: 'POST', htu, request })).toMatchObject({ allow: false, code: 'ERR_PROOF_MISSING' });
  });
});
