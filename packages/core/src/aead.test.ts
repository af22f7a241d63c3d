import { describe, expect, it } from 'vitest';
import { openSealedBytes, randomBytes, sealBytes } from './index.js';

const key = randomBytes(32);
const aad = Buffer.from('ctx:1');

describe('sealBytes / openSealedBytes', () => {
  it('round-trips and never repeats a ciphertext', () => {
    const a = sealBytes(key, Buffer.from('secret'), aad);
    const b = sealBytes(key, Buffer.from('secret'), aad);
    expect(a).not.toBe(b);
    expect(openSealedBytes(key, a, aad)?.toString()).toBe('secret');
  });

  it.each([
    ['another key', () => openSealedBytes(randomBytes(32), sealBytes(key, Buffer.from('x'), aad), aad)],
    ['another context', () => openSealedBytes(key, sealBytes(key, Buffer.from('x'), aad), Buffer.from('ctx:2'))],
    ['a flipped ciphertext byte', () => {
      const [v, iv, ct, tag] = sealBytes(key, Buffer.from('xyz'), aad).split('.');
      const flipped = Buffer.from(ct!, 'base64url');
      flipped[0] = flipped[0]! ^ 1;
      return openSealedBytes(key, [v, iv, flipped.toString('base64url'), tag].join('.'), aad);
    }],
    ['an unknown version', () => openSealedBytes(key, sealBytes(key, Buffer.from('x'), aad).replace(/^v1/, 'v2'), aad)],
    ['garbage', () => openSealedBytes(key, 'not.sealed', aad)],
  ])('refuses %s', (_name, open) => {
    expect(open()).toBeUndefined();
  });

  it('rejects keys that are not 32 bytes as a programming error', () => {
    expect(() => sealBytes(randomBytes(16), Buffer.from('x'), aad)).toThrow(TypeError);
  });
});
