import { generateKeyPair, manualClock, publicJwkOf, type KeyPair } from '@baton/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createGuard } from './create-guard.js';
import { issuerIntrospector } from './issuer-introspector.js';
import { jwksFromIssuer } from './jwks-from-issuer.js';
import { parseJwks, staticKeys } from './key-source.js';
import { AUDIENCE, HTU, ISSUER, fixture } from './testing/fixtures.js';
import { startIssuerStub, type IssuerStub } from './testing/issuer-stub.js';

const jwkOf = (kp: KeyPair, extra: Record<string, unknown> = {}) => ({ ...publicJwkOf(kp.publicKey), kid: kp.thumbprint, alg: 'EdDSA', use: 'sig', ...extra });

describe('parseJwks / staticKeys', () => {
  it('indexes keys by kid (or their thumbprint when kid is absent), from an object or JSON text', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const { kid: _drop, ...noKid } = jwkOf(b);
    const m = parseJwks(JSON.stringify({ keys: [jwkOf(a), noKid] }));
    expect([...m.keys()].sort()).toEqual([a.thumbprint, b.thumbprint].sort());
    const ks = staticKeys({ keys: [jwkOf(a)] }, { revokedKids: [b.thumbprint] });
    expect(ks.key(a.thumbprint)).toBeDefined();
    expect(ks.key(b.thumbprint)).toBe('revoked');
    expect(ks.key('nope')).toBeUndefined();
  });

  it.each<[string, unknown]>([
    ['not an object', '[]'],
    ['no keys array', { keys: 'x' }],
    ['a private key', { keys: [{ ...jwkOf(generateKeyPair()), d: 'AAAA' }] }],
    ['an RSA key', { keys: [{ kty: 'RSA', n: 'AQAB', e: 'AQAB' }] }],
    ['alg HS256', { keys: [jwkOf(generateKeyPair(), { alg: 'HS256' })] }],
    ['use enc', { keys: [jwkOf(generateKeyPair(), { use: 'enc' })] }],
    ['a kid with path characters', { keys: [jwkOf(generateKeyPair(), { kid: '../x' })] }],
    ['duplicate kids', (() => { const k = generateKeyPair(); return { keys: [jwkOf(k), jwkOf(k)] }; })()],
    ['too many keys', { keys: Array.from({ length: 65 }, () => jwkOf(generateKeyPair())) }],
    ['duplicate JSON members', '{"keys":[],"keys":[]}'],
  ])('rejects a JWKS with %s (ERR_KEY_INVALID / ERR_JSON_INVALID)', (_n, jwks) => {
    expect(() => parseJwks(jwks)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ERR_(KEY|JSON)_INVALID$/) }));
  });

  it('staticKeys rejects non-Ed25519 or private KeyObjects with TypeError', () => {
    const kp = generateKeyPair();
    expect(() => staticKeys(new Map([[kp.thumbprint, kp.privateKey]]))).toThrow(TypeError);
    expect(() => staticKeys({ 'bad kid!': kp.publicKey })).toThrow(TypeError);
  });
});

describe('jwksFromIssuer and issuerIntrospector (real gRPC)', () => {
  let stub: IssuerStub | undefined;
  afterEach(async () => {
    await stub?.close();
    stub = undefined;
  });

  it('loads keys, refreshes at most once per interval, honours revoked_kids and keeps keys when the issuer fails', async () => {
    const k1 = generateKeyPair();
    const k2 = generateKeyPair();
    let calls = 0;
    let jwks = { keys: [jwkOf(k1)] };
    let revokedKids: string[] = [];
    let down = false;
    stub = await startIssuerStub({
      getKeys: () => {
        calls++;
        if (down) throw new Error('issuer down');
        return { jwks: JSON.stringify(jwks), revokedKids };
      },
    });
    const clock = manualClock(Date.now());
    const errors: unknown[] = [];
    const keys = jwksFromIssuer(stub.client, { clock, onError: (e) => errors.push(e) });
    expect(keys.key(k1.thumbprint)).toBeUndefined();
    await keys.ready();
    expect(keys.key(k1.thumbprint)).toBeDefined();
    expect(calls).toBe(1);

    jwks = { keys: [jwkOf(k1), jwkOf(k2)] };
    expect(await keys.refresh()).toBe(false); // inside the interval
    expect(calls).toBe(1);
    clock.advance(10_000);
    const [r1, r2] = await Promise.all([keys.refresh(), keys.refresh()]); // shared in-flight call
    expect([r1, r2]).toEqual([true, true]);
    expect(calls).toBe(2);
    expect(keys.kids).toHaveLength(2);

    revokedKids = [k1.thumbprint];
    clock.advance(10_000);
    await keys.refresh();
    expect(keys.key(k1.thumbprint)).toBe('revoked');
    // Revocation is sticky even when the issuer stops listing the kid.
    revokedKids = [];
    clock.advance(10_000);
    await keys.refresh();
    expect(keys.key(k1.thumbprint)).toBe('revoked');

    down = true;
    clock.advance(10_000);
    expect(await keys.refresh()).toBe(false);
    expect(keys.key(k2.thumbprint)).toBeDefined(); // last good set stays
    expect(errors).toHaveLength(1);
  });

  it('drives a guard: an unknown kid after rotation triggers one refresh and is then accepted', async () => {
    const f = fixture();
    f.clock.set(Date.now());
    const rotated = generateKeyPair();
    let published = [jwkOf(f.issuerKey)];
    stub = await startIssuerStub({ getKeys: () => ({ jwks: JSON.stringify({ keys: published }), revokedKids: [] }) });
    const keys = jwksFromIssuer(stub.client, { clock: f.clock });
    const guard = createGuard({ audience: AUDIENCE, issuer: ISSUER, keys, clock: f.clock });
    const check = async (token: string) => {
      const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: { action: 'read', resource: 'invoice' } });
      return d.allow ? 'ALLOW' : d.code;
    };
    expect(await check(f.mint())).toBe('ALLOW'); // first use loads the keys
    published = [jwkOf(f.issuerKey), jwkOf(rotated)];
    f.clock.advance(10_000);
    expect(await check(f.mint({}, { kid: rotated.thumbprint }, rotated))).toBe('ALLOW');
  });

  it('issuerIntrospector maps Introspect answers and fails on errors', async () => {
    stub = await startIssuerStub({
      introspect: (token) => {
        if (token === 'boom') throw new Error('db down');
        return token === 'live' ? { active: true } : { active: false, inactiveCode: 'ERR_TOKEN_RELEASED' };
      },
    });
    const intro = issuerIntrospector(stub.client);
    expect(await intro.introspect('live')).toEqual({ active: true });
    expect(await intro.introspect('dead')).toEqual({ active: false, code: 'ERR_TOKEN_RELEASED' });
    await expect(intro.introspect('boom')).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
  });
});
