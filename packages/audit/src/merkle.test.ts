import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EMPTY_ROOT_HASH, foldRight, hashLeaf, perfectNodesOf, rootOfLeafHashes } from './merkle-hash.js';
import { MerkleFrontier } from './merkle-frontier.js';
import { consistencyProof, consistencyProofPlan, inclusionProof, inclusionProofPlan } from './merkle-proof.js';
import { rootFromInclusionProof, verifyConsistency, verifyInclusion } from './merkle-verify.js';
import { TreeReader, isStoredLevel, type TreeStorage } from './tree-reader.js';

// Test vectors of the Certificate Transparency reference implementation
// (github.com/transparency-dev/merkle, proof/verify_test.go): RFC 6962/9162 hashing.
const h = (hex: string): Buffer => Buffer.from(hex, 'hex');
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map(h);
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
].map(h);
const INCLUSION: Array<{ leaf: number; size: number; proof: string[] }> = [
  { leaf: 0, size: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { leaf: 5, size: 8, proof: ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { leaf: 2, size: 3, proof: ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125'] },
  { leaf: 1, size: 5, proof: ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  { leaf: 0, size: 1, proof: [] },
];
const CONSISTENCY: Array<{ first: number; second: number; proof: string[] }> = [
  { first: 1, second: 1, proof: [] },
  { first: 1, second: 8, proof: ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4'] },
  { first: 6, second: 8, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
  { first: 2, second: 5, proof: ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b'] },
  { first: 6, second: 7, proof: ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7'] },
];
const LEAF_HASHES = LEAVES.map(hashLeaf);
const SOME_HASH = h('abacaba000000000000000000000000000000000000000000060061e00123456');

const flip = (b: Uint8Array, bit: number): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3]! ^= 1 << (bit & 7);
  return c;
};

describe('RFC 6962/9162 vectors', () => {
  it('computes the published roots for sizes 1..8 (recursive, frontier, and folded)', () => {
    const f = new MerkleFrontier();
    for (let n = 1; n <= 8; n++) {
      expect(rootOfLeafHashes(LEAF_HASHES, 0, n).toString('hex')).toBe(ROOTS[n - 1]!.toString('hex'));
      f.append(LEAF_HASHES[n - 1]!);
      expect(f.root().equals(ROOTS[n - 1]!)).toBe(true);
      const folded = foldRight(perfectNodesOf(0, n).map((id) => rootOfLeafHashes(LEAF_HASHES, id.index * 2 ** id.level, (id.index + 1) * 2 ** id.level)));
      expect(folded.equals(ROOTS[n - 1]!)).toBe(true);
    }
    expect(EMPTY_ROOT_HASH.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(new MerkleFrontier().root().equals(EMPTY_ROOT_HASH)).toBe(true);
  });

  it.each(INCLUSION)('inclusion proof leaf $leaf of $size is generated and verifies', ({ leaf, size, proof }) => {
    const got = inclusionProof(leaf, size, LEAF_HASHES);
    expect(got.map((b) => b.toString('hex'))).toEqual(proof);
    expect(verifyInclusion(leaf, size, LEAF_HASHES[leaf]!, got, ROOTS[size - 1]!)).toBe(true);
  });

  it.each(CONSISTENCY)('consistency proof $first → $second is generated and verifies', ({ first, second, proof }) => {
    const got = consistencyProof(first, second, LEAF_HASHES);
    expect(got.map((b) => b.toString('hex'))).toEqual(proof);
    expect(verifyConsistency(first, second, ROOTS[first - 1]!, ROOTS[second - 1]!, got)).toBe(true);
  });
});

describe('corrupted inclusion proofs are rejected', () => {
  it.each(INCLUSION.filter((v) => v.proof.length > 0))('leaf $leaf of $size', ({ leaf, size, proof }) => {
    const p = proof.map(h);
    const root = ROOTS[size - 1]!;
    const lh = LEAF_HASHES[leaf]!;
    const probes: Array<[string, number, number, Uint8Array, Uint8Array[], Uint8Array]> = [
      ['index - 1', leaf - 1, size, lh, p, root],
      ['index + 1', leaf + 1, size, lh, p, root],
      ['index ^ 2', leaf ^ 2, size, lh, p, root],
      ['size * 2', leaf, size * 2, lh, p, root],
      ['size / 2', leaf, Math.floor(size / 2), lh, p, root],
      ['wrong leaf', leaf, size, SOME_HASH, p, root],
      ['empty root', leaf, size, lh, p, EMPTY_ROOT_HASH],
      ['random root', leaf, size, lh, p, SOME_HASH],
      ['trailing garbage', leaf, size, lh, [...p, Buffer.alloc(0)], root],
      ['trailing root', leaf, size, lh, [...p, root], root],
      ['preceding garbage', leaf, size, lh, [Buffer.alloc(0), ...p], root],
      ['preceding root', leaf, size, lh, [root, ...p], root],
      ['removed component', leaf, size, lh, p.slice(0, -1), root],
      ['short hash', leaf, size, lh, [p[0]!.subarray(1), ...p.slice(1)], root],
      ...p.map((_, i) => [`flipped bit in proof[${i}]`, leaf, size, lh, p.map((x, j) => (j === i ? flip(x, 3) : x)), root] as [string, number, number, Uint8Array, Uint8Array[], Uint8Array]),
    ];
    if (p.length > 1) probes.push(['inserted component', leaf, size, lh, [p[0]!, SOME_HASH, ...p.slice(1)], root]);
    for (const [desc, i, n, l, pr, r] of probes) expect([desc, verifyInclusion(i, n, l, pr, r)]).toEqual([desc, false]);
  });

  it('rejects out-of-range indexes and sizes', () => {
    for (const [i, n] of [[0, 0], [1, 1], [2, 1], [-1, 4], [0.5, 4], [0, Number.NaN]] as Array<[number, number]>) {
      expect(rootFromInclusionProof(i, n, SOME_HASH, [])).toBeUndefined();
    }
    expect(() => inclusionProofPlan(3, 3)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('corrupted consistency proofs are rejected', () => {
  it.each(CONSISTENCY.filter((v) => v.proof.length > 0))('$first → $second', ({ first, second, proof }) => {
    const p = proof.map(h);
    const r1 = ROOTS[first - 1]!;
    const r2 = ROOTS[second - 1]!;
    const probes: Array<[string, number, number, Uint8Array, Uint8Array, Uint8Array[]]> = [
      ['first - 1', first - 1, second, r1, r2, p],
      ['first + 1', first + 1, second, r1, r2, p],
      ['first ^ 2', first ^ 2, second, r1, r2, p],
      ['second * 2', first, second * 2, r1, r2, p],
      ['second / 2', first, Math.floor(second / 2), r1, r2, p],
      ['wrong root1', first, second, SOME_HASH, r2, p],
      ['wrong root2', first, second, r1, SOME_HASH, p],
      ['swapped roots', first, second, r2, r1, p],
      ['empty proof', first, second, r1, r2, []],
      ['trailing garbage', first, second, r1, r2, [...p, Buffer.alloc(0)]],
      ['trailing root1', first, second, r1, r2, [...p, r1]],
      ['trailing root2', first, second, r1, r2, [...p, r2]],
      ['preceding garbage', first, second, r1, r2, [Buffer.alloc(0), ...p]],
      ['preceding root1', first, second, r1, r2, [r1, ...p]],
      ['preceding root2', first, second, r1, r2, [r2, ...p]],
      ['preceding proof[0]', first, second, r1, r2, [p[0]!, ...p]],
      ['truncated proof', first, second, r1, r2, p.slice(0, -1)],
      ...p.map((_, i) => [`flipped bit in proof[${i}]`, first, second, r1, r2, p.map((x, j) => (j === i ? flip(x, 4) : x))] as [string, number, number, Uint8Array, Uint8Array, Uint8Array[]]),
    ];
    for (const [desc, a, b, x, y, pr] of probes) expect([desc, verifyConsistency(a, b, x, y, pr)]).toEqual([desc, false]);
  });

  it('handles the edge sizes like the reference implementation', () => {
    const [r1, r2] = [Buffer.alloc(32, 1), Buffer.alloc(32, 2)];
    expect(verifyConsistency(0, 0, r1, r1, [])).toBe(true);
    expect(verifyConsistency(0, 1, r1, r2, [])).toBe(true);
    expect(verifyConsistency(1, 1, r2, r2, [])).toBe(true);
    expect(verifyConsistency(1, 1, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 0, r1, r2, [])).toBe(false);
    expect(verifyConsistency(2, 1, r1, r2, [])).toBe(false);
    expect(verifyConsistency(1, 2, r1, r2, [])).toBe(false);
    expect(verifyConsistency(0, 1, EMPTY_ROOT_HASH, EMPTY_ROOT_HASH, [EMPTY_ROOT_HASH])).toBe(false);
    expect(verifyConsistency(1, 1, EMPTY_ROOT_HASH, EMPTY_ROOT_HASH, [EMPTY_ROOT_HASH])).toBe(false);
    expect(consistencyProofPlan(0, 5)).toEqual([]);
    expect(() => consistencyProofPlan(6, 5)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

/** Deterministic leaf hashes for property tests. */
const leavesOf = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => hashLeaf(Buffer.from(`leaf-${i}`)));
const memoryStorage = (leaves: Buffer[]): TreeStorage => {
  const nodes = new Map<string, Buffer>();
  const f = new MerkleFrontier();
  for (const l of leaves) f.append(l, (n) => (isStoredLevel(n.level) ? nodes.set(`${n.level}/${n.index}`, n.hash) : undefined));
  return {
    leafHashes: async (s, e) => leaves.slice(s, e),
    nodeHashes: async (level, s, e) => Array.from({ length: e - s }, (_, i) => nodes.get(`${level}/${s + i}`)!).filter(Boolean),
  };
};

describe('properties', () => {
  const sizes = fc.integer({ min: 1, max: 300 });

  it('every inclusion proof verifies, and any bit flip or wrong index fails', () => {
    fc.assert(
      fc.property(sizes, fc.nat(), fc.nat(), (n, i0, bit) => {
        const leaves = leavesOf(n);
        const i = i0 % n;
        const root = rootOfLeafHashes(leaves);
        const proof = inclusionProof(i, n, leaves);
        expect(verifyInclusion(i, n, leaves[i]!, proof, root)).toBe(true);
        if (proof.length > 0) {
          const k = bit % proof.length;
          const bad = proof.map((p, j) => (j === k ? flip(p, bit % 256) : p));
          expect(verifyInclusion(i, n, leaves[i]!, bad, root)).toBe(false);
        }
        expect(verifyInclusion(i, n, flip(leaves[i]!, bit % 256), proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion((i + 1) % n, n, leaves[i]!, proof, root)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('every consistency proof verifies, and any bit flip fails', () => {
    fc.assert(
      fc.property(sizes, sizes, fc.nat(), (a, b, bit) => {
        const [m, n] = a <= b ? [a, b] : [b, a];
        const leaves = leavesOf(n);
        const proof = consistencyProof(m, n, leaves);
        const r1 = rootOfLeafHashes(leaves, 0, m);
        const r2 = rootOfLeafHashes(leaves);
        expect(verifyConsistency(m, n, r1, r2, proof)).toBe(true);
        if (proof.length > 0) {
          const k = bit % proof.length;
          expect(verifyConsistency(m, n, r1, r2, proof.map((p, j) => (j === k ? flip(p, bit % 256) : p)))).toBe(false);
          expect(verifyConsistency(m, n, flip(r1, bit % 256), r2, proof)).toBe(false);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the frontier and the stored-subtree reader agree with the recursive definition', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 700 }), fc.nat(), fc.nat(), async (n, x, y) => {
        const leaves = leavesOf(n);
        const reader = new TreeReader(memoryStorage(leaves));
        const size = 1 + (x % n);
        const i = y % size;
        expect((await reader.root(size)).equals(rootOfLeafHashes(leaves, 0, size))).toBe(true);
        expect(await reader.proof(inclusionProofPlan(i, size))).toEqual(inclusionProof(i, size, leaves));
        const m = 1 + (y % size);
        expect(await reader.proof(consistencyProofPlan(m, size))).toEqual(consistencyProof(m, size, leaves));
        const f = await reader.frontier(size);
        f.append(hashLeaf(Buffer.from('next')));
        expect(f.root().equals(rootOfLeafHashes([...leaves.slice(0, size), hashLeaf(Buffer.from('next'))]))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('a reader with missing stored subtrees fails with ERR_LOG_TAMPERED', async () => {
    const leaves = leavesOf(40);
    const storage = memoryStorage(leaves);
    const reader = new TreeReader({ ...storage, nodeHashes: async () => [] });
    await expect(reader.root(40)).rejects.toMatchObject({ code: 'ERR_LOG_TAMPERED' });
  });
});
