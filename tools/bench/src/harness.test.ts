import { describe, expect, it } from 'vitest';
import { markdownNotes, markdownTable, median, quantile, row, summarize, unavailableRow } from './harness.js';

describe('median / quantile / summarize', () => {
  it.each([
    [[3], 3],
    [[1, 3], 2],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])('median(%j) = %d', (xs, m) => {
    expect(median(xs)).toBe(m);
  });

  it('takes nearest-rank quantiles without reordering the input', () => {
    const xs = [10, 1, 9, 2, 8, 3, 7, 4, 6, 5];
    expect(quantile(xs, 0.5)).toBe(5);
    expect(quantile(xs, 0.99)).toBe(10);
    expect(quantile(xs, 0)).toBe(1);
    expect(xs[0]).toBe(10);
  });

  it('summarizes runs as median, min, max and count, and refuses no runs', () => {
    expect(summarize([3, 1, 2])).toEqual({ value: 2, min: 1, max: 3, runs: 3 });
    expect(() => summarize([])).toThrow(TypeError);
  });
});

describe('row', () => {
  const stats = { value: 800, min: 700, max: 900, runs: 5 };

  it('computes value/ref by default and decides met from the ratio', () => {
    const r = row({ name: 'x', unit: 'ops/s', stats, reference: { name: 'raw', value: 1000 }, target: '≥ 0.8', meets: (_v, ratio) => ratio !== null && ratio >= 0.8 });
    expect(r.ratio).toBe(0.8);
    expect(r.met).toBe(true);
    expect(r.referenceValue).toBe(1000);
  });

  it('computes ref/value when asked, and keeps an explicit ratio as given', () => {
    expect(row({ name: 'x', unit: 'ms', stats, reference: { name: 'r', value: 400 }, ratio: 'ref/value' }).ratio).toBe(0.5);
    expect(row({ name: 'x', unit: 'ms', stats, reference: { name: 'r', value: 400 }, ratio: 0.1234 }).ratio).toBe(0.123);
  });

  it('leaves met null and target "—" without a target, and ratio null without a reference', () => {
    const r = row({ name: 'x', unit: 'ms', stats });
    expect(r.met).toBeNull();
    expect(r.target).toBe('—');
    expect(r.ratio).toBeNull();
    expect(r.reference).toBeNull();
  });

  it('reports a missed target as met: false', () => {
    expect(row({ name: 'x', unit: 'ms', stats, target: '≤ 1 ms', meets: (v) => v <= 1 }).met).toBe(false);
  });
});

describe('markdown', () => {
  it('prints n/a for unavailable rows, — for rows without a target, and lists notes', () => {
    const rows = [
      row({ name: 'a', unit: 'ms', stats: { value: 0.5, min: 0.4, max: 0.6, runs: 3 }, target: '≤ 1 ms', meets: (v) => v <= 1, note: 'hello' }),
      unavailableRow('b', 'ms', '≤ 100 ms', 'not available'),
    ];
    const table = markdownTable(rows).split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toContain('| a | 0.500 ms |');
    expect(table[2]).toMatch(/✓ \|$/);
    expect(table[3]).toContain('| b | n/a |');
    expect(table[3]).toMatch(/— \|$/);
    expect(markdownNotes(rows)).toBe('- `a`: hello\n- `b`: not available');
  });
});
