/**
 * The audit log's public evidence: signed checkpoints (C2SP signed notes) and RFC 9162
 * inclusion and consistency proofs, as a relying party checks them offline. Parsers throw
 * only BatonError on any input; checkpoints round-trip through their text and signed
 * forms; and a note, an inclusion proof or a consistency proof with any byte flipped,
 * inserted or deleted — in the note, a proof hash, the leaf — or with another index,
 * size or hash list is refused.
 */
import crypto from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateKeyPair, isBatonError } from '@baton/core';
import {
  checkConsistency,
  checkInclusionProof,
  consistencyProof,
  createNoteSigner,
  createNoteVerifier,
  formatCheckpointText,
  inclusionProof,
  openNote,
  parseCheckpointText,
  rootOfLeafHashes,
  signCheckpoint,
  verifyCheckpoint,
  verifyConsistency,
  type NoteVerifier,
} from '@baton/audit';
import { mutate, mutateBytes, mutation, type Mutation } from './support/mutate.js';
import { runs } from './support/runs.js';

const ORIGIN = 'baton.local/audit';
const signerKey = generateKeyPair();
const signer = createNoteSigner(ORIGIN, signerKey);
const verifiers: readonly NoteVerifier[] = [createNoteVerifier(ORIGIN, signerKey.publicKey)];
const stranger = createNoteSigner(ORIGIN, generateKeyPair());

const origin = fc.stringMatching(/^[!-*,-~]{1,40}$/);
const rootHash = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b));
const checkpoint = fc.record({ origin, size: fc.nat({ max: Number.MAX_SAFE_INTEGER }), rootHash });

/** A log of `n` random leaves, its root and the signed checkpoint at that size. */
function log(n: number): { leaves: Buffer[]; root: Buffer; note: string } {
  const leaves = Array.from({ length: n }, () => crypto.randomBytes(32));
  const root = rootOfLeafHashes(leaves, 0, n);
  return { leaves, root, note: signCheckpoint({ origin: ORIGIN, size: n, rootHash: root }, signer).note };
}
const logs = Array.from({ length: 40 }, (_, i) => log(i + 1));

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'accepted';
  } catch (err) {
    return isBatonError(err) ? err.code : `not a BatonError: ${String(err)}`;
  }
};

describe('checkpoints', () => {
  it('round-trip: parse(format(cp)) = cp, and verify(sign(cp)) = cp', () => {
    fc.assert(
      fc.property(checkpoint, (cp) => {
        expect(parseCheckpointText(formatCheckpointText(cp))).toEqual(cp);
        const key = generateKeyPair();
        const verified = verifyCheckpoint(signCheckpoint(cp, createNoteSigner(cp.origin, key)).note, createNoteVerifier(cp.origin, key.publicKey));
        expect({ origin: verified.origin, size: verified.size, rootHash: verified.rootHash }).toEqual(cp);
      }),
      runs(2),
    );
  });

  it('parsers throw nothing but BatonError on any input', () => {
    const noteish = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.tuple(origin, fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 }), fc.string({ maxLength: 100 })).map(([o, s, r, sig]) => `${o}\n${s}\n${r}\n\n— ${sig}\n`),
    );
    fc.assert(
      fc.property(noteish, (note) => {
        for (const fn of [() => openNote(note, verifiers), () => verifyCheckpoint(note, verifiers), () => parseCheckpointText(note)]) {
          expect(codeOf(fn)).toMatch(/^(ERR_|accepted$)/);
        }
        expect(codeOf(() => verifyCheckpoint(note, verifiers))).not.toBe('accepted');
      }),
      runs(10),
    );
  });

  it('a signed checkpoint with any byte flipped, inserted or deleted is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: logs.length - 1 }), mutation, (i, m) => {
        const bad = mutate(logs[i]!.note, m);
        fc.pre(bad !== undefined);
        expect(codeOf(() => verifyCheckpoint(bad!, verifiers, { origin: ORIGIN }))).toMatch(/^ERR_/);
      }),
      runs(5),
    );
  });

  it('a checkpoint signed by another key under the same name is refused', () => {
    const forged = signCheckpoint({ origin: ORIGIN, size: 1, rootHash: logs[0]!.root }, stranger).note;
    expect(codeOf(() => verifyCheckpoint(forged, verifiers))).toBe('ERR_CHECKPOINT_INVALID');
  });
});

/** One way to tamper with an inclusion proof. */
type ProofTamper = { readonly what: 'hash'; readonly which: number; readonly m: Mutation } | { readonly what: 'leaf'; readonly m: Mutation } | { readonly what: 'index' | 'size' | 'drop' | 'extra'; readonly by: number };
const tamper: fc.Arbitrary<ProofTamper> = fc.oneof(
  fc.record({ what: fc.constant('hash' as const), which: fc.nat(), m: mutation }),
  fc.record({ what: fc.constant('leaf' as const), m: mutation }),
  fc.record({ what: fc.constantFrom('index' as const, 'size' as const, 'drop' as const, 'extra' as const), by: fc.integer({ min: 1, max: 40 }) }),
);

describe('inclusion proofs against a signed checkpoint', () => {
  it('every honest proof verifies, and any tampered one is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: logs.length - 1 }), fc.nat(), tamper, (li, at, t) => {
        const { leaves, note } = logs[li]!;
        const size = leaves.length;
        const index = at % size;
        const honest = { leafIndex: index, treeSize: size, leafHash: leaves[index]!, hashes: inclusionProof(index, size, leaves), checkpoint: note };
        expect(checkInclusionProof(honest, verifiers).size).toBe(size);
        const p = { ...honest, hashes: [...honest.hashes] };
        switch (t.what) {
          case 'hash': {
            fc.pre(p.hashes.length > 0);
            const j = t.which % p.hashes.length;
            p.hashes[j] = mutateBytes(p.hashes[j]!, t.m);
            fc.pre(!p.hashes[j]!.equals(honest.hashes[j]!));
            break;
          }
          case 'leaf':
            p.leafHash = mutateBytes(p.leafHash, t.m);
            fc.pre(!p.leafHash.equals(honest.leafHash));
            break;
          case 'index':
            p.leafIndex = (index + t.by) % (size + 1);
            fc.pre(p.leafIndex !== index);
            break;
          case 'size':
            p.treeSize = size + t.by;
            break;
          case 'drop':
            fc.pre(p.hashes.length > 0);
            p.hashes.splice(t.by % p.hashes.length, 1);
            break;
          case 'extra':
            p.hashes.splice(t.by % (p.hashes.length + 1), 0, crypto.randomBytes(32));
            break;
        }
        expect(codeOf(() => checkInclusionProof(p, verifiers))).toMatch(/^ERR_(MERKLE_PROOF|CHECKPOINT)_INVALID$/);
      }),
      runs(5),
    );
  });
});

describe('consistency proofs', () => {
  it('every honest proof verifies, and a proof with a byte changed, a hash dropped or added is refused', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: logs.length - 1 }), fc.nat(), fc.nat(), mutation, fc.constantFrom('mutate', 'drop', 'extra'), (second, firstAt, which, m, how) => {
        const { leaves } = logs[logs.length - 1]!;
        const first = 1 + (firstAt % second);
        const a = rootOfLeafHashes(leaves, 0, first);
        const b = rootOfLeafHashes(leaves, 0, second + 1);
        const proof = consistencyProof(first, second + 1, leaves);
        expect(verifyConsistency(first, second + 1, a, b, proof)).toBe(true);
        const bad = [...proof];
        if (how === 'extra') bad.splice(which % (bad.length + 1), 0, crypto.randomBytes(32));
        else {
          fc.pre(bad.length > 0);
          if (how === 'drop') bad.splice(which % bad.length, 1);
          else {
            bad[which % bad.length] = mutateBytes(bad[which % bad.length]!, m);
            fc.pre(!bad[which % bad.length]!.equals(proof[which % bad.length]!));
          }
        }
        expect(verifyConsistency(first, second + 1, a, b, bad)).toBe(false);
        const older = signCheckpoint({ origin: ORIGIN, size: first, rootHash: a }, signer).note;
        const newer = signCheckpoint({ origin: ORIGIN, size: second + 1, rootHash: b }, signer).note;
        expect(codeOf(() => checkConsistency(older, newer, bad, verifiers))).toBe('ERR_MERKLE_PROOF_INVALID');
      }),
      runs(3),
    );
  });
});
