/**
 * C2SP transparency-log checkpoints (c2sp.org/tlog-checkpoint): a signed note whose text
 * is the origin line, the tree size in decimal, and the base64 root hash.
 */
import { BatonError } from '@baton/core';
import { HASH_SIZE } from './merkle-hash.js';
import { openNote, signNote, strictBase64, type NoteSigner, type NoteVerifier } from './signed-note.js';

/** A tree head: which log, how many leaves, and their Merkle root. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Buffer;
}

/** A checkpoint together with the signed note it came from. */
export interface SignedCheckpoint extends Checkpoint {
  readonly note: string;
}

const invalid = (detail: string): never => {
  throw new BatonError('ERR_CHECKPOINT_INVALID', detail);
};

// Origin: non-empty, printable, no Unicode spaces and no `+` (the spec's recommendation,
// which Baton enforces so the origin can double as the key name).
const ORIGIN = /^[^\s+\u0000-\u001f\u007f]{1,256}$/u;

/** True when `origin` is acceptable as a checkpoint origin and note key name. */
export function isValidOrigin(origin: unknown): origin is string {
  return typeof origin === 'string' && ORIGIN.test(origin);
}

/** The checkpoint note text (without signatures). */
export function formatCheckpointText(cp: Checkpoint): string {
  if (!isValidOrigin(cp.origin)) throw new TypeError('invalid checkpoint origin');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new TypeError('checkpoint size must be a non-negative safe integer');
  if (cp.rootHash.length !== HASH_SIZE) throw new TypeError('checkpoint root hash must be 32 bytes');
  return `${cp.origin}\n${cp.size}\n${Buffer.from(cp.rootHash).toString('base64')}\n`;
}

/** Parses checkpoint note text; extension lines are rejected (Baton never writes them). */
export function parseCheckpointText(text: string): Checkpoint {
  if (!text.endsWith('\n')) return invalid('checkpoint text must end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length !== 3) return invalid('checkpoint must have exactly origin, size and root hash lines');
  const [origin, sizeLine, rootLine] = lines as [string, string, string];
  if (!isValidOrigin(origin)) return invalid('bad origin line');
  if (!/^(0|[1-9][0-9]{0,15})$/.test(sizeLine) || !Number.isSafeInteger(Number(sizeLine))) return invalid('bad tree size line');
  const rootHash = strictBase64(rootLine);
  if (!rootHash || rootHash.length !== HASH_SIZE) return invalid('bad root hash line');
  return { origin, size: Number(sizeLine), rootHash };
}

/** Signs a checkpoint; the signer's key name should equal the origin. */
export function signCheckpoint(cp: Checkpoint, signer: NoteSigner): SignedCheckpoint {
  const note = signNote(formatCheckpointText(cp), [signer]);
  return { origin: cp.origin, size: cp.size, rootHash: Buffer.from(cp.rootHash), note };
}

/**
 * Verifies a signed checkpoint against the log's key(s) and returns it. Fails with
 * ERR_CHECKPOINT_INVALID when it is malformed, not signed by a known key, or (when
 * `origin` is given) from another log.
 */
export function verifyCheckpoint(
  note: unknown,
  verifiers: NoteVerifier | readonly NoteVerifier[],
  opts?: { readonly origin?: string },
): SignedCheckpoint {
  const list = Array.isArray(verifiers) ? (verifiers as readonly NoteVerifier[]) : [verifiers as NoteVerifier];
  const opened = openNote(note, list);
  const cp = parseCheckpointText(opened.text);
  if (opts?.origin !== undefined && cp.origin !== opts.origin) return invalid(`checkpoint from origin ${cp.origin}, expected ${opts.origin}`);
  return { ...cp, note: note as string };
}
