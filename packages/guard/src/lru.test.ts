import { manualClock } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { LruMap } from './lru.js';

const T0 = Date.UTC(2030, 0, 1);

describe('LruMap with expiry', () => {
  it('never returns an entry from its expiry on, and forgets it on that lookup', () => {
    const clock = manualClock(T0);
    const m = new LruMap<string, number>(10, { clock });
    m.set('a', 1, T0 + 1000);
    clock.advance(999);
    expect(m.get('a')).toBe(1);
    clock.advance(1);
    expect(m.get('a')).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('does not store an entry that is already expired', () => {
    const clock = manualClock(T0);
    const m = new LruMap<string, number>(10, { clock });
    m.set('a', 1, T0);
    expect(m.size).toBe(0);
  });

  it('extends an entry on a lookup with extendTo, never shortens it', () => {
    const clock = manualClock(T0);
    const m = new LruMap<string, number>(10, { clock });
    m.set('k', 1, T0 + 1000);
    expect(m.get('k', T0 + 5000)).toBe(1);
    expect(m.get('k', T0 + 10)).toBe(1);
    clock.advance(4999);
    expect(m.get('k')).toBe(1);
    clock.advance(1);
    expect(m.get('k')).toBeUndefined();
  });

  it('sweeps expired entries it is not asked about, at most every interval and within its budget', () => {
    const clock = manualClock(T0);
    const m = new LruMap<string, number>(100, { clock, sweepIntervalMs: 1000, sweepBudget: 10 });
    for (let i = 0; i < 30; i++) m.set(`short${i}`, i, T0 + 500);
    for (let i = 0; i < 5; i++) m.set(`long${i}`, i, T0 + 60_000);
    expect(m.size).toBe(35);
    clock.advance(600);
    // Within the interval of the first sweep (at the first set): nothing is swept yet.
    m.get('long0');
    expect(m.size).toBe(35);
    clock.advance(400);
    m.get('long0'); // one sweep: 10 entries looked at
    expect(m.size).toBe(25);
    m.get('long0'); // same instant: no second sweep
    expect(m.size).toBe(25);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      m.get('long0');
    }
    expect(m.size).toBe(5);
    expect(m.get('long4')).toBe(4);
    // The explicit sweep looks at everything and keeps what is still valid.
    clock.advance(56_000);
    expect(m.sweep()).toBe(5);
    expect(m.size).toBe(0);
  });

  it('resumes where the previous sweep stopped and wraps around once', () => {
    const clock = manualClock(T0);
    const m = new LruMap<string, number>(10, { clock, sweepIntervalMs: 60_000 });
    m.set('a', 1, T0 + 100);
    m.set('b', 2, T0 + 60_000);
    m.set('c', 3, T0 + 60_000);
    expect(m.sweep(2)).toBe(0); // looked at a and b
    clock.advance(200);
    // c, then from the start again: a (expired), b.
    expect(m.sweep()).toBe(1);
    expect(m.size).toBe(2);
    expect(m.get('b')).toBe(2);
  });

  it('stays bounded by size whatever the expiry (distinct keys from an attacker)', () => {
    const clock = manualClock(T0);
    const m = new LruMap<string, number>(3, { clock });
    for (let i = 0; i < 50; i++) m.set(`t${i}`, i, T0 + 3_600_000);
    expect(m.size).toBe(3);
    expect(m.get('t49')).toBe(49);
    expect(m.get('t0')).toBeUndefined();
  });

  it('sweeps at once after the clock went backwards', () => {
    const clock = manualClock(T0);
    const m = new LruMap<string, number>(10, { clock, sweepIntervalMs: 1000 });
    m.set('a', 1, T0 + 100);
    clock.set(T0 - 60_000);
    m.set('b', 2, T0 + 100); // sweeps (nothing expired yet at this instant)
    clock.set(T0 + 200);
    m.get('zzz'); // 60.2 s after the backwards sweep (200 ms after the first): sweeps a and b
    expect(m.size).toBe(0);
  });

  it('refuses expiring entries without a clock and bad sweep settings', () => {
    const m = new LruMap<string, number>(10);
    expect(() => m.set('a', 1, Date.now() + 1000)).toThrow(TypeError);
    m.set('b', 2);
    expect(m.get('b')).toBe(2);
    expect(() => new LruMap(10, { sweepBudget: 0 })).toThrow(TypeError);
    expect(() => new LruMap(10, { sweepIntervalMs: -1 })).toThrow(TypeError);
  });
});
