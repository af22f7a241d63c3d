/**
 * Inclusion and consistency proof generation, RFC 9162 §2.1.3.1 (PATH) and §2.1.4.1
 * (PROOF / SUBPROOF).
 *
 * Generation is split in two so it works over any storage: a *plan* names the leaf
 * ranges whose MTH form the proof (pure arithmetic on sizes), and the caller resolves
 * each range to a hash — from an in-memory array here, or from stored subtree hashes
 * in a {@link TreeReader}.
 */
import { BatonError } from '@baton/core';
import { rootOfLeafHashes, splitPoint } from './merkle-hash.js';

/** Leaves [start, end) of the tree; one proof element is the MTH of such a range. */
export interface LeafRange {
  readonly start: number;
  readonly end: number;
}

function assertSize(name: string, v: number): void {
  if (!Number.isSafeInteger(v)) throw new TypeError(`${name} must be a safe integer`);
  if (v < 0) throw new BatonError('ERR_INVALID_ARGUMENT', `${name} is negative`);
}

/**
 * The ranges whose hashes make up the inclusion proof of leaf `index` in a tree of
 * `size` leaves, in proof order (deepest sibling first). Throws ERR_INVALID_ARGUMENT
 * unless 0 ≤ index < size.
 */
export function inclusionProofPlan(index: number, size: number): LeafRange[] {
  assertSize('index', index);
  assertSize('size', size);
  if (index >= size) throw new BatonError('ERR_INVALID_ARGUMENT', `leaf ${index} is not in a tree of size ${size}`);
  const out: LeafRange[] = [];
  let a = 0;
  let b = size;
  // PATH(m, D[a:b]) = PATH(m, D[a:a+k]) : MTH(D[a+k:b]) when m < k, else
  // PATH(m-k, D[a+k:b]) : MTH(D[a:a+k]); walked top-down, so reversed at the end.
  while (b - a > 1) {
    const k = splitPoint(b - a);
    if (index < a + k) {
      out.push({ start: a + k, end: b });
      b = a + k;
    } else {
      out.push({ start: a, end: a + k });
      a += k;
    }
  }
  return out.reverse();
}

/**
 * The ranges whose hashes make up the consistency proof between tree sizes `first` and
 * `second`, in proof order. Empty when first is 0 or equals second. Throws
 * ERR_INVALID_ARGUMENT unless 0 ≤ first ≤ second.
 */
export function consistencyProofPlan(first: number, second: number): LeafRange[] {
  assertSize('first', first);
  assertSize('second', second);
  if (first > second) throw new BatonError('ERR_INVALID_ARGUMENT', `first size ${first} exceeds second size ${second}`);
  if (first === 0 || first === second) return [];
  const out: LeafRange[] = [];
  let a = 0;
  let b = second;
  let m = first;
  // SUBPROOF(m, D[a:b], flag): flag is true only while m still ends exactly where the
  // original first tree ended at the left edge (its root need not be sent).
  let flag = true;
  for (;;) {
    const n = b - a;
    if (m === n) {
      if (!flag) out.push({ start: a, end: b });
      break;
    }
    const k = splitPoint(n);
    if (m <= k) {
      out.push({ start: a + k, end: b });
      b = a + k;
    } else {
      out.push({ start: a, end: a + k });
      a += k;
      m -= k;
      flag = false;
    }
  }
  return out.reverse();
}

/** Inclusion proof for leaf `index` in the tree formed by the first `size` of `leafHashes`. */
export function inclusionProof(index: number, size: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  if (size > leafHashes.length) throw new BatonError('ERR_INVALID_ARGUMENT', `tree size ${size} exceeds ${leafHashes.length} leaves`);
  return inclusionProofPlan(index, size).map((r) => rootOfLeafHashes(leafHashes, r.start, r.end));
}

/** Consistency proof between the trees formed by the first `first` and `second` of `leafHashes`. */
export function consistencyProof(first: number, second: number, leafHashes: readonly Uint8Array[]): Buffer[] {
  if (second > leafHashes.length) throw new BatonError('ERR_INVALID_ARGUMENT', `tree size ${second} exceeds ${leafHashes.length} leaves`);
  return consistencyProofPlan(first, second).map((r) => rootOfLeafHashes(leafHashes, r.start, r.end));
}
