import { describe, expect, it } from 'vitest';
import { medianOf, rssVerdict, slopeOf, type RssSample } from './soak-rss.js';

const MB = 1e6;
const MIN = 60_000;

/** 10 minutes sampled every 5 s, RSS from `f(ms)`. */
function series(f: (ms: number) => number, durationMs = 10 * MIN, everyMs = 5000): RssSample[] {
  const out: RssSample[] = [];
  for (let t = 0; t <= durationMs; t += everyMs) out.push({ atMs: t, rssBytes: f(t) });
  return out;
}

describe('rssVerdict', () => {
  it.each([
    ['constant', (_t: number) => 150 * MB, true],
    ['warm-up growth, then flat', (t: number) => (t < 4 * MIN ? 100 * MB + (t / MIN) * 10 * MB : 140 * MB), true],
    ['GC saw teeth of ±8 MB around a flat line', (t: number) => 150 * MB + ((t / 5000) % 4 < 2 ? 8 : -8) * MB, true],
    ['a steady 2 MB/min leak', (t: number) => 150 * MB + (t / MIN) * 2 * MB, false],
    ['a 30 MB step late in the run', (t: number) => (t < 8 * MIN ? 150 * MB : 180 * MB), false],
  ])('%s → flat %s', (_name, f, flat) => {
    expect(rssVerdict(series(f), 10 * MIN).flat).toBe(flat);
  });

  it('reports the slope of the second half in MB/min and the quarter medians', () => {
    const v = rssVerdict(series((t) => 100 * MB + (t / MIN) * 3 * MB), 10 * MIN);
    expect(v.slopeMbPerMin).toBeCloseTo(3, 6);
    expect(v.secondQuarterMedianBytes).toBeCloseTo(100 * MB + 3.75 * 3 * MB, -3);
    expect(v.lastQuarterMedianBytes).toBeCloseTo(100 * MB + 8.75 * 3 * MB, -3);
    expect(v.minBytes).toBe(100 * MB);
    expect(v.maxBytes).toBe(130 * MB);
  });

  it('gives no verdict with too few samples in the second half', () => {
    expect(rssVerdict(series(() => 150 * MB, MIN, 20_000), MIN).flat).toBeUndefined();
    expect(rssVerdict([], MIN).flat).toBeUndefined();
  });
});

describe('medianOf and slopeOf', () => {
  it('median of odd and even lists, NaN for none', () => {
    expect(medianOf([3, 1, 2])).toBe(2);
    expect(medianOf([4, 1, 3, 2])).toBe(2.5);
    expect(medianOf([])).toBeNaN();
  });

  it('least-squares slope, 0 when undefined', () => {
    expect(slopeOf([{ x: 0, y: 1 }, { x: 1, y: 3 }, { x: 2, y: 5 }])).toBeCloseTo(2, 12);
    expect(slopeOf([{ x: 1, y: 1 }])).toBe(0);
    expect(slopeOf([{ x: 1, y: 1 }, { x: 1, y: 5 }])).toBe(0);
  });
});
