/**
 * Byte-level mutations of a serialized artifact, as an attacker (or a bad wire) makes
 * them: flip one bit, insert a byte, delete a byte, or overwrite one. Applied to the
 * UTF-8 bytes of a string and decoded back (invalid UTF-8 becomes U+FFFD, as any
 * string-typed transport would deliver it).
 */
import fc from 'fast-check';

export type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'insert'; readonly at: number; readonly byte: number }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'overwrite'; readonly at: number; readonly byte: number };

const byte = fc.integer({ min: 0, max: 255 });
/** Printable ASCII is what a mutation of an ASCII artifact most often needs to stay parseable. */
const likelyByte = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), byte);

/** One random mutation (positions are taken modulo the artifact's length). */
export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), byte: likelyByte }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('overwrite' as const), at: fc.nat(), byte: likelyByte }),
);

/** `bytes` with `m` applied. */
export function mutateBytes(bytes: Uint8Array, m: Mutation): Buffer {
  const b = Buffer.from(bytes);
  const n = b.length;
  switch (m.kind) {
    case 'flip': {
      if (n === 0) return b;
      const i = m.at % n;
      b[i] = b[i]! ^ (1 << m.bit);
      return b;
    }
    case 'insert': {
      const i = m.at % (n + 1);
      return Buffer.concat([b.subarray(0, i), Buffer.from([m.byte]), b.subarray(i)]);
    }
    case 'delete': {
      if (n === 0) return b;
      const i = m.at % n;
      return Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
    }
    case 'overwrite': {
      if (n === 0) return b;
      b[m.at % n] = m.byte;
      return b;
    }
  }
}

/** `s` with `m` applied to its UTF-8 bytes; undefined when the result equals `s`. */
export function mutate(s: string, m: Mutation): string | undefined {
  const out = mutateBytes(Buffer.from(s, 'utf8'), m).toString('utf8');
  return out === s ? undefined : out;
}
