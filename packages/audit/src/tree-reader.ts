/**
 * Resolves Merkle subtree hashes for proofs and roots at any tree size from what a
 * store keeps: the leaf hashes (one per entry) plus the hash of every completed perfect
 * subtree at levels that are multiples of {@link NODE_STRIDE}. Any perfect node is then
 * at most 2^(stride-1) stored hashes away, so a proof at 1 M entries costs a few
 * hundred hash operations instead of a million, while the extra rows are only 1/15 of
 * the entries.
 */
import { BatonError } from '@baton/core';
import { HASH_SIZE, foldRight, hashChildren, perfectNodesOf } from './merkle-hash.js';
import { MerkleFrontier } from './merkle-frontier.js';
import type { LeafRange } from './merkle-proof.js';

/** Subtree hashes are stored at levels 4, 8, 12, … */
export const NODE_STRIDE = 4;

/** True when a store keeps the hashes of perfect subtrees at this level. */
export function isStoredLevel(level: number): boolean {
  return level > 0 && level % NODE_STRIDE === 0;
}

/** What a store provides to the reader. Both return hashes in index order. */
export interface TreeStorage {
  /** Leaf hashes (`hashLeaf(event hash)`) of leaves [start, end). */
  leafHashes(start: number, end: number): Promise<Buffer[]>;
  /** Stored subtree hashes at `level` (a stored level) for indices [start, end). */
  nodeHashes(level: number, start: number, end: number): Promise<Buffer[]>;
}

/** Computes subtree hashes, inclusion/consistency proof elements and roots from storage. */
export class TreeReader {
  readonly #storage: TreeStorage;

  constructor(storage: TreeStorage) {
    this.#storage = storage;
  }

  /** Hash of the perfect subtree covering leaves [index·2^level, (index+1)·2^level). */
  async perfectNode(level: number, index: number): Promise<Buffer> {
    const base = level - (level % NODE_STRIDE);
    const width = 2 ** (level - base);
    const first = index * width;
    const hashes =
      base === 0 ? await this.#storage.leafHashes(first, first + width) : await this.#storage.nodeHashes(base, first, first + width);
    if (hashes.length !== width || hashes.some((h) => h.length !== HASH_SIZE)) {
      throw new BatonError('ERR_LOG_TAMPERED', `stored tree hashes missing at level ${base} [${first}, ${first + width})`);
    }
    let row = hashes;
    while (row.length > 1) {
      const next: Buffer[] = [];
      for (let i = 0; i < row.length; i += 2) next.push(hashChildren(row[i]!, row[i + 1]!));
      row = next;
    }
    return row[0]!;
  }

  /** MTH of leaves [start, end) for a range that occurs in the tree's structure. */
  async rangeHash(range: LeafRange): Promise<Buffer> {
    const ids = perfectNodesOf(range.start, range.end);
    const hashes: Buffer[] = [];
    for (const id of ids) hashes.push(await this.perfectNode(id.level, id.index));
    return foldRight(hashes);
  }

  /** Resolves a proof plan (from `inclusionProofPlan` / `consistencyProofPlan`). */
  async proof(plan: readonly LeafRange[]): Promise<Buffer[]> {
    const out: Buffer[] = [];
    for (const r of plan) out.push(await this.rangeHash(r));
    return out;
  }

  /** The frontier of the tree at `size`, to resume appending or compute the root. */
  async frontier(size: number): Promise<MerkleFrontier> {
    if (size === 0) return new MerkleFrontier();
    const hashes: Buffer[] = [];
    for (const id of perfectNodesOf(0, size)) hashes.push(await this.perfectNode(id.level, id.index));
    return MerkleFrontier.fromNodes(size, hashes);
  }

  /** MTH of the tree at `size`. */
  async root(size: number): Promise<Buffer> {
    return (await this.frontier(size)).root();
  }
}
