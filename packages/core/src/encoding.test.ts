import { describe, expect, it } from 'vitest';
import { b64urlDecode, b64urlEncode, isCanonicalB64url } from './encoding.js';
import { isBatonError } from './errors.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton:${(err as Error).name}`;
  }
  return undefined;
}

describe('b64urlEncode', () => {
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['{"alg":"EdDSA"}', 'eyJhbGciOiJFZERTQSJ9'],
  ])('encodes %j without padding (RFC 4648 §10 vectors)', (input, out) => {
    expect(b64urlEncode(input)).toBe(out);
    expect(b64urlEncode(Buffer.from(input))).toBe(out);
  });

  it('uses the URL-safe alphabet', () => {
    expect(b64urlEncode(Uint8Array.from([0xfb, 0xff, 0xbf]))).toBe('-_-_');
  });

  it('encodes a view at an offset without reading outside it', () => {
    const backing = Uint8Array.from([1, 2, 0x66, 0x6f, 0x6f, 9]);
    expect(b64urlEncode(backing.subarray(2, 5))).toBe('Zm9v');
  });

  it('rejects non-byte input as a programming error', () => {
    expect(() => b64urlEncode(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('b64urlDecode', () => {
  it('round-trips every length from 0 to 64 bytes', () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      expect(b64urlDecode(b64urlEncode(bytes)).equals(bytes)).toBe(true);
    }
  });

  it.each([
    ['padding', 'Zg=='],
    ['single padding', 'Zm8='],
    ['standard alphabet +', 'ab+c'],
    ['standard alphabet /', 'ab/c'],
    ['whitespace', 'Zm9v Yg'],
    ['newline', 'Zm9v\nYg'],
    ['impossible length (1 mod 4)', 'Zm9vY'],
    ['non-zero trailing bits (2 chars)', 'Zh'],
    ['non-zero trailing bits (3 chars)', 'Zm9'],
    ['non-ASCII', 'Zm9vé'],
    ['dot', 'Zm.9v'],
  ])('rejects %s with ERR_INVALID_ARGUMENT', (_name, input) => {
    expect(codeOf(() => b64urlDecode(input))).toBe('ERR_INVALID_ARGUMENT');
    expect(isCanonicalB64url(input)).toBe(false);
  });

  it('accepts exactly the canonical form of each byte string', () => {
    // 'Zg' is canonical for "f"; 'Zh'..'Zv' decode to the same byte in lenient decoders.
    expect(b64urlDecode('Zg').toString()).toBe('f');
    expect(Buffer.from('Zh', 'base64url').toString()).toBe('f'); // what Node alone would accept
  });

  it('rejects non-strings as a programming error', () => {
    expect(() => b64urlDecode(undefined as unknown as string)).toThrow(TypeError);
  });
});
