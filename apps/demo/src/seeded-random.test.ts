import { describe, expect, it } from 'vitest';
import { seededRandom } from './seeded-random.js';

const draw = (seed: string, n = 32): number[] => {
  const r = seededRandom(seed);
  return Array.from({ length: n }, () => r());
};

describe('seededRandom', () => {
  it('repeats exactly for the same seed (so --seed reproduces a run)', () => {
    expect(draw('42:intern')).toEqual(draw('42:intern'));
  });

  it('differs between seeds and between agents of one run', () => {
    expect(draw('42:intern')).not.toEqual(draw('43:intern'));
    expect(draw('42:intern')).not.toEqual(draw('42:manager'));
  });

  it('stays in [0, 1) and takes both branches of a coin flip', () => {
    const xs = draw('7', 1000);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const heads = xs.filter((x) => x < 0.5).length;
    expect(heads).toBeGreaterThan(400);
    expect(heads).toBeLessThan(600);
  });
});
