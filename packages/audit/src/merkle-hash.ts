/**
 * RFC 9162 §2.1.1 Merkle Tree Hash (MTH) over SHA-256, with the domain-separation
 * prefixes that stop a leaf from being passed off as an interior node: `0x00` for
 * leaves, `0x01` for nodes.
 */
import crypto from 'node:crypto';
import { sha256 } from '@baton/core';

/** Length in bytes of every hash in the tree. */
export const HASH_SIZE = 32;

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/** MTH({}) — the hash of an empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT_HASH: Buffer = sha256(new Uint8Array(0));

/** `SHA-256(0x00 || data)`: the hash of one leaf. */
export function hashLeaf(data: Uint8Array): Buffer {
  return sha256(Buffer.concat([LEAF_PREFIX, data]));
}

/** `SHA-256(0x01 || left || right)`: the hash of an interior node. */
export function hashChildren(left: Uint8Array, right: Uint8Array): Buffer {
  // Tree hashes (always 32 bytes) go through a reusable buffer: about one node per leaf
  // when building a tree, so the allocation showed up in whole-log verification.
  if (hasOneShot && left instanceof Uint8Array && right instanceof Uint8Array && left.length === HASH_SIZE && right.length === HASH_SIZE) {
    nodeInput.set(left, 1);
    nodeInput.set(right, 1 + HASH_SIZE);
    return crypto.hash('sha256', nodeInput, 'buffer');
  }
  return sha256(Buffer.concat([NODE_PREFIX, left, right], 1 + left.length + right.length));
}

const hasOneShot = typeof crypto.hash === 'function';
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01); // [0] is the 0x01 node prefix; the rest is overwritten

/**
 * The largest power of two strictly smaller than `n` (n ≥ 2): where RFC 9162 splits a
 * range of n leaves into its left and right subtrees.
 */
export function splitPoint(n: number): number {
  if (!Number.isSafeInteger(n) || n < 2) throw new TypeError('splitPoint needs an integer n >= 2');
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** True when `n` is a power of two (1, 2, 4, …). */
export function isPowerOfTwo(n: number): boolean {
  // Not `n & (n - 1)`: bitwise operators truncate to 32 bits.
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.floor(Math.log2(n)) === n;
}

/**
 * The aligned perfect subtrees that make up leaves [start, end) of an RFC 9162 tree,
 * left to right, as `{ level, index }` (the node covering leaves
 * [index·2^level, (index+1)·2^level)). Valid for every range that occurs as a subtree
 * in a tree's hashing or proofs: those start at a multiple of the largest power of two
 * in their length.
 */
export function perfectNodesOf(start: number, end: number): Array<{ level: number; index: number }> {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end <= start) {
    throw new TypeError('perfectNodesOf needs 0 <= start < end');
  }
  const out: Array<{ level: number; index: number }> = [];
  let pos = start;
  let remaining = end - start;
  while (remaining > 0) {
    let size = 1;
    let level = 0;
    // Largest power of two that fits in what is left and keeps `pos` aligned.
    while (size * 2 <= remaining && pos % (size * 2) === 0) {
      size *= 2;
      level++;
    }
    out.push({ level, index: pos / size });
    pos += size;
    remaining -= size;
  }
  return out;
}

/** Folds the hashes of a range's perfect subtrees (left to right) into the range's MTH. */
export function foldRight(hashes: readonly Uint8Array[]): Buffer {
  if (hashes.length === 0) return Buffer.from(EMPTY_ROOT_HASH);
  let acc: Buffer = Buffer.from(hashes[hashes.length - 1]!);
  for (let i = hashes.length - 2; i >= 0; i--) acc = hashChildren(hashes[i]!, acc);
  return acc;
}

/**
 * MTH of `leafHashes[start:end)` (already leaf-hashed), by the RFC's recursive
 * definition. O(n) hashing; for large logs use a {@link MerkleFrontier} instead.
 */
export function rootOfLeafHashes(leafHashes: readonly Uint8Array[], start = 0, end = leafHashes.length): Buffer {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end > leafHashes.length || start > end) {
    throw new TypeError('rootOfLeafHashes: range out of bounds');
  }
  const n = end - start;
  if (n === 0) return Buffer.from(EMPTY_ROOT_HASH);
  if (n === 1) return Buffer.from(leafHashes[start]!);
  const k = splitPoint(n);
  return hashChildren(rootOfLeafHashes(leafHashes, start, start + k), rootOfLeafHashes(leafHashes, start + k, end));
}
