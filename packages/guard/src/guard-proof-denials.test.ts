import { ReplayCache, generateKeyPair, type ErrorCode } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { HTU, fixture, type Fixture } from './testing/fixtures.js';
import { approve, codeOf, setup } from './testing/guard-setup.js';

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
