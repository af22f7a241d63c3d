/**
 * The compact range of leaves [begin, end) of an RFC 9162 tree: the aligned perfect
 * subtrees that cover it, left to right (as {@link perfectNodesOf}(begin, end) lists
 * them). A range can be built by one thread from its own leaves without knowing any
 * leaf before `begin`, and adjacent ranges merge in O(log n) hashes: that is what lets
 * workers build the tree of their part of a log and the main thread just join them.
 *
 * Hashes are held as one-byte strings (`latin1`, one character per byte): a verification
 * hashes two tree nodes per entry, and a digest returned as a Buffer costs several times
 * the hashing of its 33 or 65 bytes.
 */
import crypto from 'node:crypto';
import { EMPTY_ROOT_HASH, HASH_SIZE } from './merkle-hash.js';

/** A range's nodes in transferable form: levels and hashes (32 bytes each), left to right. */
export interface CompactNodes {
  readonly levels: readonly number[];
  readonly hashes: Uint8Array;
}

const digest: (data: Uint8Array) => string =
  typeof crypto.hash === 'function' ? (data) => crypto.hash('sha256', data, 'binary') : (data) => crypto.createHash('sha256').update(data).digest('binary');
const leafInput = Buffer.alloc(1 + HASH_SIZE, 0x00); // [0] stays the RFC 9162 leaf prefix 0x00
const nodeInput = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01); // [0] stays the node prefix 0x01

// SHA-256(0x01 || left || right), on one-byte strings.
function hashNode(left: string, right: string): string {
  nodeInput.write(left, 1, HASH_SIZE, 'latin1');
  nodeInput.write(right, 1 + HASH_SIZE, HASH_SIZE, 'latin1');
  return digest(nodeInput);
}

/** Leaves [begin, end) as their perfect subtrees. Not thread-safe; one owner appends. */
export class CompactRange {
  readonly #begin: number;
  #end: number;
  #levels: number[] = [];
  #hashes: string[] = [];

  /** An empty range at `begin` (a leaf index, 0 for the start of the log). */
  constructor(begin: number) {
    if (!Number.isSafeInteger(begin) || begin < 0) throw new TypeError('begin must be a leaf index');
    this.#begin = begin;
    this.#end = begin;
  }

  /** First leaf index covered. */
  get begin(): number {
    return this.#begin;
  }

  /** One past the last leaf index covered. */
  get end(): number {
    return this.#end;
  }

  /** Appends leaf `end`, given its entry's event hash (64 lowercase hex digits): the leaf hash is `SHA-256(0x00 || hash bytes)`. */
  appendEventHash(eventHashHex: string): void {
    // Verified event hashes are always well-formed; anything else is a caller's bug.
    if (eventHashHex.length !== 2 * HASH_SIZE || leafInput.write(eventHashHex, 1, HASH_SIZE, 'hex') !== HASH_SIZE) {
      throw new TypeError('event hashes must be 64 hex digits');
    }
    this.#push(0, this.#end, digest(leafInput));
    this.#end++;
  }

  /** Appends leaf `end`, given its leaf hash. */
  append(leafHash: Uint8Array): void {
    if (leafHash.length !== HASH_SIZE) throw new TypeError('leaf hashes must be 32 bytes');
    this.#push(0, this.#end, Buffer.from(leafHash.buffer, leafHash.byteOffset, HASH_SIZE).toString('latin1'));
    this.#end++;
  }

  /**
   * Appends the range that starts where this one ends, given as its nodes (what
   * {@link CompactRange.nodes} of a range beginning at `end` returned).
   */
  appendRange(other: CompactNodes): void {
    const { levels, hashes } = other;
    if (hashes.length !== levels.length * HASH_SIZE) throw new TypeError('one 32-byte hash per node');
    const bytes = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.length);
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      const size = 2 ** level;
      if (!Number.isInteger(level) || level < 0 || this.#end % size !== 0) throw new TypeError('nodes are not an adjacent compact range');
      this.#push(level, this.#end / size, bytes.toString('latin1', i * HASH_SIZE, (i + 1) * HASH_SIZE));
      this.#end += size;
    }
  }

  // Adds the perfect subtree `index` of `level` (adjacent to the last node). A node that
  // is a right child merges with its left sibling, which is then the last node whenever
  // that sibling lies inside the range.
  #push(level: number, index: number, hash: string): void {
    let l = level;
    let i = index;
    let h = hash;
    while (i % 2 === 1 && this.#levels.length > 0 && this.#levels[this.#levels.length - 1] === l) {
      this.#levels.pop();
      h = hashNode(this.#hashes.pop()!, h);
      l++;
      i = (i - 1) / 2;
    }
    this.#levels.push(l);
    this.#hashes.push(h);
  }

  /** The nodes, in transferable form (copied). */
  nodes(): CompactNodes {
    const hashes = new Uint8Array(this.#hashes.length * HASH_SIZE);
    this.#hashes.forEach((h, i) => hashes.set(Buffer.from(h, 'latin1'), i * HASH_SIZE));
    return { levels: this.#levels.slice(), hashes };
  }

  /** MTH of the tree of leaves [0, end); only for a range that begins at 0. */
  root(): Buffer {
    if (this.#begin !== 0) throw new TypeError('only a range from leaf 0 has a root');
    const n = this.#hashes.length;
    if (n === 0) return Buffer.from(EMPTY_ROOT_HASH);
    // RFC 9162: the perfect subtrees of [0, end), folded from the right.
    let acc = this.#hashes[n - 1]!;
    for (let i = n - 2; i >= 0; i--) acc = hashNode(this.#hashes[i]!, acc);
    return Buffer.from(acc, 'latin1');
  }

  /** An independent copy. */
  clone(): CompactRange {
    const c = new CompactRange(this.#begin);
    c.#end = this.#end;
    c.#levels = this.#levels.slice();
    c.#hashes = this.#hashes.slice();
    return c;
  }
}
