/**
 * Offline checks of what a log (or anyone claiming to be it) hands out: inclusion proofs
 * against a signed checkpoint, and consistency between two signed checkpoints. These
 * are what `baton audit prove` and `baton audit verify --remote` need.
 */
import { BatonError } from '@baton/core';
import { verifyCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { computeEventHash, leafHashOf } from './entry-hash.js';
import type { AuditEntry } from './event.js';
import type { InclusionProof } from './log-reads.js';
import { inclusionProofPlan } from './merkle-proof.js';
import { verifyConsistency, verifyInclusion } from './merkle-verify.js';
import type { NoteVerifier } from './signed-note.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import type { AuditStore } from './store.js';
import { TreeReader } from './tree-reader.js';

const invalid = (detail: string): never => {
  throw new BatonError('ERR_MERKLE_PROOF_INVALID', detail);
};

/** What {@link checkInclusionProof} needs; `entry` (when given) is checked too. */
export interface InclusionProofInput {
  readonly entry?: AuditEntry;
  readonly leafIndex: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly hashes: readonly Uint8Array[];
  /** The signed checkpoint the proof is against. */
  readonly checkpoint: string;
}

/**
 * Checks an inclusion proof: the checkpoint is signed by a trusted key and has the
 * proof's size, the entry (if given) hashes to the leaf, and the proof leads to the
 * checkpoint's root. Returns the verified checkpoint. ERR_CHECKPOINT_INVALID or
 * ERR_MERKLE_PROOF_INVALID otherwise.
 */
export function checkInclusionProof(
  p: InclusionProofInput,
  verifiers: NoteVerifier | readonly NoteVerifier[],
  opts?: { readonly origin?: string },
): SignedCheckpoint {
  const cp = verifyCheckpoint(p.checkpoint, verifiers, opts);
  if (cp.size !== p.treeSize) invalid(`proof is for size ${p.treeSize}, checkpoint is at ${cp.size}`);
  if (p.entry) {
    if (computeEventHash(p.entry) !== p.entry.eventHash) invalid(`entry ${p.entry.sequence} does not match its event hash`);
    if (p.entry.sequence - 1 !== p.leafIndex) invalid('entry sequence does not match the leaf index');
    if (!leafHashOf(p.entry.eventHash).equals(p.leafHash)) invalid('leaf hash is not the entry’s');
  }
  if (!verifyInclusion(p.leafIndex, p.treeSize, p.leafHash, p.hashes, cp.rootHash)) invalid('inclusion proof does not lead to the checkpoint root');
  return cp;
}

/**
 * Checks that `newer` extends `older` (both signed by trusted keys) using `proof`.
 * Throws ERR_MERKLE_PROOF_INVALID when the two checkpoints are inconsistent (a fork or
 * a rewritten log).
 */
export function checkConsistency(
  older: string,
  newer: string,
  proof: readonly Uint8Array[],
  verifiers: NoteVerifier | readonly NoteVerifier[],
  opts?: { readonly origin?: string },
): { older: SignedCheckpoint; newer: SignedCheckpoint } {
  const a = verifyCheckpoint(older, verifiers, opts);
  const b = verifyCheckpoint(newer, verifiers, opts);
  if (a.origin !== b.origin) invalid('checkpoints are from different logs');
  if (!verifyConsistency(a.size, b.size, a.rootHash, b.rootHash, proof)) invalid(`checkpoint at ${b.size} is not consistent with the one at ${a.size}`);
  return { older: a, newer: b };
}

/**
 * Builds the inclusion proof of entry `sequence` from a store (or a SQLite file) against
 * its newest signed checkpoint, and checks it before returning.
 *
 * @example const { proof, checkpoint } = await proveInclusion('audit.db', 42, { verifiers: [parseVerifierKey(key)] });
 */
export async function proveInclusion(
  source: AuditStore | string,
  sequence: number,
  opts: { readonly verifiers: readonly NoteVerifier[]; readonly origin?: string },
): Promise<{ proof: InclusionProof; checkpoint: SignedCheckpoint }> {
  const store = typeof source === 'string' ? await createSqliteAuditStore({ path: source, readonly: true }) : source;
  try {
    if (!Number.isSafeInteger(sequence) || sequence < 1) throw new BatonError('ERR_INVALID_ARGUMENT', 'sequence must be >= 1');
    const stored = await store.latestCheckpoint();
    if (!stored || stored.size < sequence) throw new BatonError('ERR_NOT_FOUND', `no signed checkpoint covers entry ${sequence}`);
    const entry = await store.get(sequence);
    if (!entry) throw new BatonError('ERR_NOT_FOUND', `entry ${sequence} not found`);
    const hashes = await new TreeReader(store).proof(inclusionProofPlan(sequence - 1, stored.size));
    const proof: InclusionProof = { entry, leafIndex: sequence - 1, treeSize: stored.size, leafHash: leafHashOf(entry.eventHash), hashes, checkpoint: stored.note };
    const checkpoint = checkInclusionProof(proof, opts.verifiers, opts.origin !== undefined ? { origin: opts.origin } : undefined);
    return { proof, checkpoint };
  } finally {
    if (typeof source === 'string') await store.close();
  }
}
