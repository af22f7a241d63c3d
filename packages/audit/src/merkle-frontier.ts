/**
 * The compact range [0, size) of an RFC 9162 tree: one perfect-subtree hash per set bit
 * of `size`. Appending a leaf is amortised O(1) hashing (O(log n) worst case), and the
 * root at the current size is a fold over at most log2(n) hashes.
 */
import { EMPTY_ROOT_HASH, HASH_SIZE, foldRight, hashChildren, perfectNodesOf } from './merkle-hash.js';

/** A perfect subtree: leaves [index·2^level, (index+1)·2^level). */
export interface TreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Buffer;
}

/** Incremental Merkle tree state. Not thread-safe; one owner appends. */
export class MerkleFrontier {
  #stack: TreeNode[] = [];
  #size = 0;

  /**
   * Rebuilds the frontier of a tree of `size` leaves from its perfect subtrees, left to
   * right, as {@link perfectNodesOf}(0, size) lists them.
   */
  static fromNodes(size: number, hashes: readonly Uint8Array[]): MerkleFrontier {
    const f = new MerkleFrontier();
    if (size === 0) {
      if (hashes.length !== 0) throw new TypeError('an empty tree has no nodes');
      return f;
    }
    const ids = perfectNodesOf(0, size);
    if (ids.length !== hashes.length) throw new TypeError(`a tree of size ${size} has ${ids.length} frontier nodes`);
    f.#stack = ids.map((id, i) => {
      const h = hashes[i]!;
      if (h.length !== HASH_SIZE) throw new TypeError('frontier hashes must be 32 bytes');
      return { level: id.level, index: id.index, hash: Buffer.from(h) };
    });
    f.#size = size;
    return f;
  }

  /** Number of leaves appended. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf hash. `onNode` sees every perfect subtree this completes, the leaf
   * itself first (level 0), then each merged parent — so a store can persist the
   * subtree hashes it keeps for fast proofs.
   */
  append(leafHash: Uint8Array, onNode?: (node: TreeNode) => void): void {
    if (leafHash.length !== HASH_SIZE) throw new TypeError('leaf hashes must be 32 bytes');
    let node: TreeNode = { level: 0, index: this.#size, hash: Buffer.from(leafHash) };
    onNode?.(node);
    for (;;) {
      const top = this.#stack[this.#stack.length - 1];
      if (!top || top.level !== node.level) break;
      this.#stack.pop();
      node = { level: node.level + 1, index: Math.floor(node.index / 2), hash: hashChildren(top.hash, node.hash) };
      onNode?.(node);
    }
    this.#stack.push(node);
    this.#size++;
  }

  /** MTH of the tree at its current size (the empty-tree hash at size 0). */
  root(): Buffer {
    if (this.#size === 0) return Buffer.from(EMPTY_ROOT_HASH);
    return foldRight(this.#stack.map((n) => n.hash));
  }

  /** The frontier's perfect subtrees, left to right. */
  nodes(): readonly TreeNode[] {
    return this.#stack.slice();
  }

  /** An independent copy (e.g. to try a batch before committing it). */
  clone(): MerkleFrontier {
    const f = new MerkleFrontier();
    f.#stack = this.#stack.slice();
    f.#size = this.#size;
    return f;
  }
}
