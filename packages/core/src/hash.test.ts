import { describe, expect, it } from 'vitest';
import { keyedHash, sha256, sha256B64url, sha256Hex } from './hash.js';

describe('sha256', () => {
  // FIPS 180-2 appendix B.1 ("abc") and the empty message.
  it.each([
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ])('hashes %j to the published digest', (input, hex) => {
    expect(sha256Hex(input)).toBe(hex);
    expect(sha256(input).toString('hex')).toBe(hex);
    expect(sha256(Buffer.from(input)).toString('hex')).toBe(hex);
    expect(sha256B64url(input)).toBe(Buffer.from(hex, 'hex').toString('base64url'));
  });

  it('hashes strings as UTF-8', () => {
    expect(sha256Hex('é')).toBe(sha256Hex(Buffer.from([0xc3, 0xa9])));
  });

  it('rejects other input types', () => {
    expect(() => sha256(12 as unknown as string)).toThrow(TypeError);
  });
});

describe('keyedHash', () => {
  it('is HMAC-SHA-256 (RFC 4231 test case 1) in base64url', () => {
    const key = Buffer.alloc(20, 0x0b);
    const expected = Buffer.from('b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7', 'hex').toString('base64url');
    expect(keyedHash(key, 'Hi There')).toBe(expected);
  });

  it('depends on the key', () => {
    expect(keyedHash(Buffer.alloc(32, 1), 'user:a')).not.toBe(keyedHash(Buffer.alloc(32, 2), 'user:a'));
  });

  it('refuses short keys', () => {
    expect(() => keyedHash(Buffer.alloc(8), 'x')).toThrow(TypeError);
  });
});
