// Ranges built apart and joined must give the RFC 9162 root of the whole, whatever the
// split points (that is how parallel verification builds the tree).
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CompactRange } from './compact-range.js';
import { leafHashOf } from './entry-hash.js';
import { EMPTY_ROOT_HASH, perfectNodesOf, rootOfLeafHashes } from './merkle-hash.js';

const leaves = (n: number): Buffer[] => Array.from({ length: n }, () => randomBytes(32));

function rangeOf(all: readonly Buffer[], begin: number, end: number): CompactRange {
  const r = new CompactRange(begin);
  for (let i = begin; i < end; i++) r.append(all[i]!);
  return r;
}

describe('CompactRange', () => {
  it('joins ranges split anywhere into the root of the whole tree', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), (n, x, y) => {
        const all = leaves(n);
        const [a, b] = [Math.min(x, y) % (n + 1), Math.max(x, y) % (n + 1)].sort((p, q) => p - q) as [number, number];
        const tree = rangeOf(all, 0, a);
        const mid = rangeOf(all, a, b);
        if (b > a) expect(mid.nodes().levels).toEqual(perfectNodesOf(a, b).map((id) => id.level));
        tree.appendRange(mid.nodes());
        tree.appendRange(rangeOf(all, b, n).nodes());
        expect(tree.end).toBe(n);
        expect(tree.root().equals(rootOfLeafHashes(all))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('gives the root at every size while appending, and copies are independent', () => {
    const all = leaves(70);
    const r = new CompactRange(0);
    expect(r.root().equals(EMPTY_ROOT_HASH)).toBe(true);
    for (let i = 0; i < all.length; i++) {
      r.append(all[i]!);
      expect(r.root().equals(rootOfLeafHashes(all, 0, i + 1))).toBe(true);
    }
    const copy = r.clone();
    copy.append(randomBytes(32));
    expect(r.root().equals(rootOfLeafHashes(all))).toBe(true);
    expect(copy.end).toBe(71);
  });

  it('hashes an event hash into its RFC 9162 leaf', () => {
    const hex = randomBytes(32).toString('hex');
    const a = new CompactRange(5);
    a.appendEventHash(hex);
    const b = new CompactRange(5);
    b.append(leafHashOf(hex));
    expect(Buffer.from(a.nodes().hashes).equals(Buffer.from(b.nodes().hashes))).toBe(true);
    expect(Buffer.from(a.nodes().hashes).equals(leafHashOf(hex))).toBe(true);
  });

  it('rejects malformed input', () => {
    const r = new CompactRange(1);
    expect(() => r.appendEventHash('zz'.repeat(32))).toThrow(TypeError);
    expect(() => r.appendEventHash('ab')).toThrow(TypeError);
    expect(() => r.append(new Uint8Array(31))).toThrow(TypeError);
    // A level-1 node cannot start at leaf 1.
    expect(() => r.appendRange({ levels: [1], hashes: new Uint8Array(32) })).toThrow(TypeError);
    expect(() => r.appendRange({ levels: [0], hashes: new Uint8Array(31) })).toThrow(TypeError);
    expect(() => r.root()).toThrow(TypeError);
    expect(() => new CompactRange(-1)).toThrow(TypeError);
  });
});
