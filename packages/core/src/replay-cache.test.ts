import { describe, expect, it } from 'vitest';
import { ReplayCache } from './replay-cache.js';

describe('ReplayCache', () => {
  it('answers fresh once, then replayed until expiry', () => {
    const c = new ReplayCache();
    expect(c.checkAndAdd('k', 10_000, 1_000)).toBe('fresh');
    expect(c.checkAndAdd('k', 10_000, 1_001)).toBe('replayed');
    expect(c.checkAndAdd('k', 10_000, 9_999)).toBe('replayed');
    expect(c.checkAndAdd('other', 10_000, 9_999)).toBe('fresh');
    // At expiry the entry is gone and the key may be recorded again.
    expect(c.checkAndAdd('k', 20_000, 10_000)).toBe('fresh');
    expect(c.checkAndAdd('k', 20_000, 10_001)).toBe('replayed');
  });

  it('prunes expired entries lazily', () => {
    const c = new ReplayCache();
    for (let i = 0; i < 100; i++) c.checkAndAdd(`a${i}`, 5_000 + i * 10, 0);
    for (let i = 0; i < 100; i++) c.checkAndAdd(`b${i}`, 60_000, 0);
    expect(c.size).toBe(200);
    c.checkAndAdd('c', 70_000, 7_000);
    expect(c.size).toBe(101);
    c.prune(61_000);
    expect(c.size).toBe(1);
  });

  it('keeps a key re-added with a later expiry when its old bucket is pruned', () => {
    const c = new ReplayCache();
    expect(c.checkAndAdd('k', 1_500, 0)).toBe('fresh'); // bucket 2 s
    expect(c.checkAndAdd('k', 9_000, 1_600)).toBe('fresh'); // expired (1.5 s), re-added
    c.prune(2_500); // bucket 2 s is processed now
    expect(c.checkAndAdd('k', 9_000, 2_600)).toBe('replayed');
  });

  it('is bounded: when full of live entries it answers full and evicts nothing', () => {
    const c = new ReplayCache({ maxEntries: 3 });
    expect(['a', 'b', 'c'].map((k) => c.checkAndAdd(k, 60_000, 0))).toEqual(['fresh', 'fresh', 'fresh']);
    expect(c.checkAndAdd('d', 60_000, 1_000)).toBe('full');
    expect(c.size).toBe(3);
    // Every live entry is still remembered.
    expect(['a', 'b', 'c'].map((k) => c.checkAndAdd(k, 60_000, 2_000))).toEqual(['replayed', 'replayed', 'replayed']);
    // Once entries expire, room frees up again.
    expect(c.checkAndAdd('d', 120_000, 60_000)).toBe('fresh');
    expect(c.size).toBe(1);
  });

  it('does not store what has already expired', () => {
    const c = new ReplayCache();
    expect(c.checkAndAdd('old', 500, 1_000)).toBe('fresh');
    expect(c.size).toBe(0);
  });

  it('stays bounded over a long run with a sliding window', () => {
    const c = new ReplayCache({ maxEntries: 1_000 });
    let full = 0;
    for (let t = 0; t < 200_000; t += 100) {
      // 1 new key per 100 ms, each live for 65 s: at most 651 live at once.
      if (c.checkAndAdd(`k${t}`, t + 65_000, t) !== 'fresh') full++;
      expect(c.size).toBeLessThanOrEqual(1_000);
    }
    expect(full).toBe(0);
    expect(c.size).toBeLessThanOrEqual(660);
  });

  it('clear forgets everything', () => {
    const c = new ReplayCache();
    c.checkAndAdd('k', 10_000, 0);
    c.clear();
    expect(c.size).toBe(0);
    expect(c.checkAndAdd('k', 10_000, 0)).toBe('fresh');
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxEntries %s', (n) => {
    expect(() => new ReplayCache({ maxEntries: n })).toThrow(TypeError);
  });

  it('rejects non-finite times', () => {
    expect(() => new ReplayCache().checkAndAdd('k', Number.NaN, 0)).toThrow(TypeError);
  });
});
