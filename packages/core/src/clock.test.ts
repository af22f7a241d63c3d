import { describe, expect, it } from 'vitest';
import { manualClock, nowSeconds, systemClock } from './clock.js';

describe('clocks', () => {
  it('manualClock moves only when told', () => {
    const c = manualClock(1_000_000);
    expect(c.now()).toBe(1_000_000);
    c.advance(1_500);
    expect(c.now()).toBe(1_001_500);
    c.advance(-2_000);
    expect(c.now()).toBe(999_500);
    c.set(5);
    expect(c.now()).toBe(5);
  });

  it('nowSeconds floors to whole seconds', () => {
    expect(nowSeconds(manualClock(1_999))).toBe(1);
    expect(nowSeconds(manualClock(2_000))).toBe(2);
  });

  it('systemClock follows Date.now', () => {
    const before = Date.now();
    const t = systemClock.now();
    expect(t).toBeGreaterThanOrEqual(before);
    expect(t).toBeLessThanOrEqual(Date.now());
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY])('rejects a non-finite time %s', (v) => {
    expect(() => manualClock(v)).toThrow(TypeError);
    expect(() => manualClock(0).set(v)).toThrow(TypeError);
    expect(() => manualClock(0).advance(v)).toThrow(TypeError);
  });
});
