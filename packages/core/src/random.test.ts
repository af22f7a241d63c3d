import { describe, expect, it } from 'vitest';
import { randomBytes, randomId, timingSafeEqualStr } from './random.js';

describe('randomBytes / randomId', () => {
  it('returns the requested number of bytes', () => {
    expect(randomBytes(0)).toHaveLength(0);
    expect(randomBytes(32)).toHaveLength(32);
  });

  it('gives 128-bit base64url ids by default, all distinct', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => randomId()));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomId(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it.each([-1, 1.5, Number.NaN, 1e9])('randomBytes(%s) is a programming error', (n) => {
    expect(() => randomBytes(n)).toThrow(TypeError);
  });

  it.each([0, 4, 65, 2.5])('randomId(%s) is a programming error', (n) => {
    expect(() => randomId(n)).toThrow(TypeError);
  });
});

describe('timingSafeEqualStr', () => {
  it.each([
    ['abc', 'abc', true],
    ['', '', true],
    ['abc', 'abd', false],
    ['abc', 'ab', false],
    ['ab', 'abc', false],
    ['é', 'e', false],
    ['é', 'é', true],
  ])('%j vs %j → %s', (a, b, want) => {
    expect(timingSafeEqualStr(a, b)).toBe(want);
  });

  it('rejects non-strings', () => {
    expect(() => timingSafeEqualStr('a', undefined as unknown as string)).toThrow(TypeError);
  });
});
