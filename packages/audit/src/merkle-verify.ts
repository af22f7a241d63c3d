/**
 * Offline proof verification, RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
 * (consistency). Pure functions: they never throw on malformed proofs, they return
 * false (or undefined for the root recomputation).
 *
 * Sizes are JavaScript safe integers, so the RFC's right shifts are written as
 * divisions (bitwise operators would truncate to 32 bits).
 */
import { HASH_SIZE, hashChildren, isPowerOfTwo } from './merkle-hash.js';

const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_SIZE;
const odd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);
const validSize = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);
}

/**
 * The root an inclusion proof leads to, or undefined when the proof cannot be valid for
 * this index and size (wrong length, index out of range, malformed hashes).
 */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[]): Buffer | undefined {
  if (!validSize(index) || !validSize(size) || index >= size || !isHash(leafHash) || !Array.isArray(proof)) return undefined;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leafHash);
  for (const p of proof) {
    if (!isHash(p) || sn === 0) return undefined;
    if (odd(fn) || fn === sn) {
      r = hashChildren(p, r);
      if (!odd(fn)) {
        // Skip the levels where this node has no right sibling (the right edge).
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = hashChildren(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : undefined;
}

/** True when `proof` proves leaf `leafHash` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: readonly Uint8Array[], root: Uint8Array): boolean {
  if (!isHash(root)) return false;
  const r = rootFromInclusionProof(index, size, leafHash, proof);
  return r !== undefined && equal(r, root);
}

/**
 * True when `proof` shows the tree of `first` leaves with root `firstRoot` is a prefix
 * of the tree of `second` leaves with root `secondRoot`.
 *
 * Edge cases: first = second needs an empty proof and equal roots; first = 0 needs an
 * empty proof (the empty tree is a prefix of every tree); first > second never verifies.
 */
export function verifyConsistency(
  first: number,
  second: number,
  firstRoot: Uint8Array,
  secondRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!validSize(first) || !validSize(second) || first > second || !Array.isArray(proof)) return false;
  if (!isHash(firstRoot) || !isHash(secondRoot)) return false;
  if (first === second) return proof.length === 0 && equal(firstRoot, secondRoot);
  if (first === 0) return proof.length === 0;
  if (proof.length === 0 || !proof.every(isHash)) return false;

  // A first tree that is a complete subtree is itself the starting node.
  const path = isPowerOfTwo(first) ? [firstRoot, ...proof] : [...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = hashChildren(c, fr);
      sr = hashChildren(c, sr);
      if (!odd(fn)) {
        while (!odd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = hashChildren(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equal(fr, firstRoot) && equal(sr, secondRoot);
}
