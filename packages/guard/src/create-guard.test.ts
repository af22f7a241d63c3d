import { sha256B64url, generateKeyPair } from '@baton/core';
import { describe, expect, it, vi } from 'vitest';
import { createGuard } from './create-guard.js';
import { DEFAULT_GUARD_OPTIONS } from './guard-options.js';
import { staticKeys, type KeySource } from './key-source.js';
import { AUDIENCE, HTU, ISSUER, fixture } from './testing/fixtures.js';
import { approve, codeOf, setup } from './testing/guard-setup.js';

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
