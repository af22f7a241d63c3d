import crypto from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';
import { isBatonError } from './errors.js';
import {
  exportPrivateJwk,
  generateKeyPair,
  importPrivateJwk,
  importPublicJwk,
  jwkThumbprint,
  publicJwkOf,
  publicKeyFromRaw,
  rawPublicKeyOf,
  signBytes,
  verifyBytes,
} from './keys.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton:${(err as Error).name}`;
  }
  return undefined;
}

// RFC 8037 Appendix A.1 (private key) and A.2 (its public key).
const RFC8037_D = 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A';
const RFC8037_X = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo';
// RFC 8037 Appendix A.3.
const RFC8037_THUMBPRINT = 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k';
// RFC 7638 §3.1.
const RFC7638_RSA = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};
const RFC7638_THUMBPRINT = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs';

describe('RFC vectors', () => {
  it('A.1 → A.2: the private key imports and derives the published public key', () => {
    const kp = importPrivateJwk({ kty: 'OKP', crv: 'Ed25519', d: RFC8037_D, x: RFC8037_X });
    expect(kp.publicJwk).toEqual({ kty: 'OKP', crv: 'Ed25519', x: RFC8037_X });
    expect(kp.rawPublicKey.toString('hex')).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(exportPrivateJwk(kp)).toEqual({ kty: 'OKP', crv: 'Ed25519', x: RFC8037_X, d: RFC8037_D });
  });

  it('A.3: thumbprint of the public key', () => {
    expect(jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: RFC8037_X })).toBe(RFC8037_THUMBPRINT);
    expect(importPrivateJwk({ kty: 'OKP', crv: 'Ed25519', d: RFC8037_D, x: RFC8037_X }).thumbprint).toBe(RFC8037_THUMBPRINT);
    // Optional members never change it.
    expect(jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: RFC8037_X, kid: 'k1', alg: 'EdDSA', use: 'sig' })).toBe(RFC8037_THUMBPRINT);
  });

  it('RFC 7638 §3.1: thumbprint of the RSA example key', () => {
    expect(jwkThumbprint(RFC7638_RSA)).toBe(RFC7638_THUMBPRINT);
  });

  it('agrees with jose for generated keys of every supported type', async () => {
    const ed = generateKeyPair();
    expect(await calculateJwkThumbprint(ed.publicJwk)).toBe(ed.thumbprint);
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
    expect(jwkThumbprint(ec)).toBe(await calculateJwkThumbprint(ec as Parameters<typeof calculateJwkThumbprint>[0]));
  });

  it.each([
    ['unknown kty', { kty: 'XYZ', x: 'a' }],
    ['missing kty', { x: RFC8037_X }],
    ['missing x', { kty: 'OKP', crv: 'Ed25519' }],
    ['non-string member', { kty: 'RSA', n: 5, e: 'AQAB' }],
    ['inherited kty', Object.create({ kty: 'OKP' }) as object],
  ])('jwkThumbprint rejects %s', (_n, jwk) => {
    expect(codeOf(() => jwkThumbprint(jwk))).toBe('ERR_KEY_INVALID');
  });
});

describe('generateKeyPair and conversions', () => {
  it('derives consistent public forms', () => {
    const kp = generateKeyPair();
    expect(kp.rawPublicKey).toHaveLength(32);
    expect(kp.publicJwk.x).toBe(kp.rawPublicKey.toString('base64url'));
    expect(rawPublicKeyOf(kp.publicKey).equals(kp.rawPublicKey)).toBe(true);
    expect(rawPublicKeyOf(kp.privateKey).equals(kp.rawPublicKey)).toBe(true);
    expect(publicJwkOf(kp.privateKey)).toEqual(kp.publicJwk);
    expect(jwkThumbprint(kp.publicJwk)).toBe(kp.thumbprint);
    expect(Object.isFrozen(kp.publicJwk)).toBe(true);
  });

  it('gives distinct keys', () => {
    expect(generateKeyPair().thumbprint).not.toBe(generateKeyPair().thumbprint);
  });

  it('round-trips raw and JWK public keys', () => {
    const kp = generateKeyPair();
    const sig = signBytes(Buffer.from('m'), kp.privateKey);
    expect(verifyBytes(Buffer.from('m'), sig, publicKeyFromRaw(kp.rawPublicKey))).toBe(true);
    expect(verifyBytes(Buffer.from('m'), sig, importPublicJwk({ ...kp.publicJwk, kid: 'a', alg: 'EdDSA', use: 'sig' }))).toBe(true);
  });

  it('round-trips private JWKs for key files', () => {
    const kp = generateKeyPair();
    const back = importPrivateJwk(JSON.parse(JSON.stringify(exportPrivateJwk(kp.privateKey))));
    expect(back.thumbprint).toBe(kp.thumbprint);
    expect(verifyBytes(Buffer.from('x'), signBytes(Buffer.from('x'), back.privateKey), kp.publicKey)).toBe(true);
  });

  it('treats wrong key kinds as programming errors', () => {
    const kp = generateKeyPair();
    const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => exportPrivateJwk(kp.publicKey)).toThrow(TypeError);
    expect(() => signBytes(Buffer.from('x'), kp.publicKey)).toThrow(TypeError);
    expect(() => signBytes(Buffer.from('x'), rsa.privateKey)).toThrow(TypeError);
    expect(() => publicJwkOf(rsa.publicKey)).toThrow(TypeError);
    expect(() => publicKeyFromRaw('abc' as unknown as Uint8Array)).toThrow(TypeError);
  });
});

describe('publicKeyFromRaw rejects what is not a large-order point', () => {
  const hex = (h: string) => Buffer.from(h, 'hex');
  it.each([
    ['31 bytes', Buffer.alloc(31, 1)],
    ['33 bytes', Buffer.alloc(33, 1)],
    ['identity (order 1)', hex('0100000000000000000000000000000000000000000000000000000000000000')],
    ['y = 0 (order 4)', hex('0000000000000000000000000000000000000000000000000000000000000000')],
    ['y = p - 1 (order 2)', hex('ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')],
    ['order 8', hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05')],
    ['order 8 (other y)', hex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')],
    ['order 8 (sign bit set)', hex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85')],
    ['y = p (non-canonical)', hex('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')],
    ['y = p + 2 (non-canonical)', hex('efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f')],
    ['x = 0 with sign bit', hex('0100000000000000000000000000000000000000000000000000000000000080')],
    ['y = 2 (not on the curve)', hex('0200000000000000000000000000000000000000000000000000000000000000')],
  ])('%s → ERR_KEY_INVALID', (_n, raw) => {
    expect(codeOf(() => publicKeyFromRaw(raw))).toBe('ERR_KEY_INVALID');
  });

  it('accepts the RFC 8037 key and generated keys', () => {
    expect(rawPublicKeyOf(publicKeyFromRaw(Buffer.from(RFC8037_X, 'base64url'))).toString('base64url')).toBe(RFC8037_X);
    for (let i = 0; i < 20; i++) {
      const kp = generateKeyPair();
      expect(publicKeyFromRaw(kp.rawPublicKey).asymmetricKeyType).toBe('ed25519');
    }
  });
});

describe('importPublicJwk', () => {
  const good = { kty: 'OKP', crv: 'Ed25519', x: RFC8037_X };
  it.each([
    ['null', null],
    ['array', [good]],
    ['string', JSON.stringify(good)],
    ['private d', { ...good, d: RFC8037_D }],
    ['kty EC', { ...good, kty: 'EC' }],
    ['kty oct', { kty: 'oct', k: 'AAAA' }],
    ['crv X25519', { ...good, crv: 'X25519' }],
    ['crv Ed448', { ...good, crv: 'Ed448' }],
    ['x missing', { kty: 'OKP', crv: 'Ed25519' }],
    ['x too short', { ...good, x: RFC8037_X.slice(0, 42) }],
    ['x too long', { ...good, x: `${RFC8037_X}A` }],
    ['x padded', { ...good, x: `${RFC8037_X}=` }],
    ['x standard alphabet', { ...good, x: RFC8037_X.replace('_', '/') }],
    ['x non-canonical trailing bits', { ...good, x: `${RFC8037_X.slice(0, 42)}p` }],
    ['x not a point', { ...good, x: Buffer.from('02'.padEnd(64, '0'), 'hex').toString('base64url') }],
    ['alg RS256', { ...good, alg: 'RS256' }],
    ['use enc', { ...good, use: 'enc' }],
    ['unknown member', { ...good, x5u: 'https://evil.example/k' }],
    ['key_ops sign', { ...good, key_ops: ['sign'] }],
    ['empty kid', { ...good, kid: '' }],
    ['identity point', { ...good, x: Buffer.from([1, ...new Array(31).fill(0)]).toString('base64url') }],
  ])('rejects %s with ERR_KEY_INVALID', (_n, jwk) => {
    expect(codeOf(() => importPublicJwk(jwk))).toBe('ERR_KEY_INVALID');
  });
});

describe('importPrivateJwk', () => {
  it.each([
    ['x of another key', { kty: 'OKP', crv: 'Ed25519', d: RFC8037_D, x: generateKeyPair().publicJwk.x }],
    ['missing d', { kty: 'OKP', crv: 'Ed25519', x: RFC8037_X }],
    ['short d', { kty: 'OKP', crv: 'Ed25519', d: RFC8037_D.slice(1), x: RFC8037_X }],
    ['wrong crv', { kty: 'OKP', crv: 'X25519', d: RFC8037_D, x: RFC8037_X }],
    ['not an object', 'nope'],
  ])('rejects %s with ERR_KEY_INVALID', (_n, jwk) => {
    expect(codeOf(() => importPrivateJwk(jwk))).toBe('ERR_KEY_INVALID');
  });
});

describe('verifyBytes', () => {
  const kp = generateKeyPair();
  const msg = Buffer.from('hello');
  const sig = signBytes(msg, kp.privateKey);

  it('accepts the right signature and is deterministic', () => {
    expect(verifyBytes(msg, sig, kp.publicKey)).toBe(true);
    expect(signBytes(msg, kp.privateKey).equals(sig)).toBe(true);
  });

  it.each([
    ['another message', Buffer.from('hellp'), sig, kp.publicKey],
    ['another key', msg, sig, generateKeyPair().publicKey],
    ['flipped bit', msg, Buffer.from(sig.map((b, i) => (i === 10 ? b ^ 1 : b))), kp.publicKey],
    ['short signature', msg, sig.subarray(0, 63), kp.publicKey],
    ['long signature', msg, Buffer.concat([sig, Buffer.alloc(1)]), kp.publicKey],
    ['empty signature', msg, Buffer.alloc(0), kp.publicKey],
    ['not bytes', msg, 'sig' as unknown as Uint8Array, kp.publicKey],
    ['RSA key', msg, sig, crypto.generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey],
    ['not a key', msg, sig, {} as crypto.KeyObject],
  ])('returns false (never throws) for %s', (_n, m, s, k) => {
    expect(verifyBytes(m, s, k)).toBe(false);
  });
});
