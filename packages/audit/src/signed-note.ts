/**
 * C2SP signed notes (c2sp.org/signed-note) with Ed25519 signatures: text, a blank
 * line, then `— <key name> <base64(4-byte key id || signature)>` lines.
 */
import type { KeyObject } from 'node:crypto';
import { BatonError, publicKeyFromRaw, rawPublicKeyOf, sha256, signBytes, verifyBytes } from '@baton/core';

/** Signature type byte of Ed25519 in the signed-note key id. */
const ALG_ED25519 = 0x01;
/** Signature lines accepted per note (the spec requires at least 16). */
export const MAX_NOTE_SIGNATURES = 100;
/** Largest note accepted, in UTF-8 bytes. */
export const MAX_NOTE_BYTES = 64 * 1024;

/** Signs note text under a named key. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(message: Uint8Array): Buffer;
  /** The matching verifier, when the signer knows its public key. */
  readonly verifier?: NoteVerifier;
}

/** Checks signatures of one named key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

const invalid = (detail: string): never => {
  throw new BatonError('ERR_CHECKPOINT_INVALID', detail);
};

// Non-empty, no Unicode whitespace and no `+` (the spec's rule for key names).
const KEY_NAME = /^[^\s+]+$/u;

function assertKeyName(name: string): void {
  if (typeof name !== 'string' || !KEY_NAME.test(name) || /[\u0000-\u001f\u007f]/.test(name)) {
    throw new TypeError('a note key name must be non-empty with no spaces or "+"');
  }
}

/** Key id per the spec: the first 4 bytes (big-endian) of SHA-256(name || 0x0A || 0x01 || public key). */
export function noteKeyId(name: string, rawPublicKey: Uint8Array): number {
  const digest = sha256(Buffer.concat([Buffer.from(name, 'utf8'), Buffer.from([0x0a, ALG_ED25519]), rawPublicKey]));
  return digest.readUInt32BE(0);
}

/** A signer for `name` from an Ed25519 key pair. */
export function createNoteSigner(name: string, keyPair: { privateKey: KeyObject; publicKey: KeyObject }): NoteSigner {
  assertKeyName(name);
  const keyId = noteKeyId(name, rawPublicKeyOf(keyPair.publicKey));
  const verifier = createNoteVerifier(name, keyPair.publicKey);
  return Object.freeze({ name, keyId, verifier, sign: (message: Uint8Array) => signBytes(message, keyPair.privateKey) });
}

/** A verifier for `name` from an Ed25519 public key (KeyObject or 32 raw bytes). */
export function createNoteVerifier(name: string, publicKey: KeyObject | Uint8Array): NoteVerifier {
  assertKeyName(name);
  const key = publicKey instanceof Uint8Array ? publicKeyFromRaw(publicKey) : publicKey;
  const keyId = noteKeyId(name, rawPublicKeyOf(key));
  return Object.freeze({ name, keyId, verify: (message: Uint8Array, signature: Uint8Array) => verifyBytes(message, signature, key) });
}

/** The portable verifier key string `<name>+<hex key id>+<base64(0x01 || public key)>`. */
export function formatVerifierKey(name: string, publicKey: KeyObject | Uint8Array): string {
  assertKeyName(name);
  const raw = publicKey instanceof Uint8Array ? Buffer.from(publicKey) : rawPublicKeyOf(publicKey);
  const id = noteKeyId(name, raw).toString(16).padStart(8, '0');
  return `${name}+${id}+${Buffer.concat([Buffer.from([ALG_ED25519]), raw]).toString('base64')}`;
}

/** Parses a verifier key string (see {@link formatVerifierKey}); ERR_KEY_INVALID if malformed. */
export function parseVerifierKey(text: unknown): NoteVerifier {
  const bad = (d: string): never => {
    throw new BatonError('ERR_KEY_INVALID', d);
  };
  if (typeof text !== 'string' || text.length > 512) return bad('verifier key must be a short string');
  // name+id+key; the base64 key may itself contain '+', so split on the first two only.
  const a = text.indexOf('+');
  const b = a < 0 ? -1 : text.indexOf('+', a + 1);
  if (b < 0) return bad('verifier key must be name+id+key');
  const [name, idHex, b64] = [text.slice(0, a), text.slice(a + 1, b), text.slice(b + 1)];
  if (!KEY_NAME.test(name)) return bad('bad key name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) return bad('bad key id');
  const raw = strictBase64(b64);
  if (!raw || raw.length !== 33 || raw[0] !== ALG_ED25519) return bad('unsupported key type');
  let verifier: NoteVerifier;
  try {
    verifier = createNoteVerifier(name, raw.subarray(1));
  } catch {
    return bad('not an Ed25519 public key');
  }
  if (verifier.keyId !== Number.parseInt(idHex, 16)) return bad('key id does not match the key');
  return verifier;
}

/** Standard base64 that re-encodes to itself (no stray characters or bits), else undefined. */
export function strictBase64(s: string): Buffer | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? b : undefined;
}

/** Signs `text` (which must end in a newline) with every signer, in order. */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  if (typeof text !== 'string' || !text.endsWith('\n') || /[\u0000-\u0009\u000b-\u001f]/.test(text)) {
    throw new TypeError('note text must end in a newline and hold no control characters');
  }
  if (signers.length === 0) throw new TypeError('signNote needs at least one signer');
  const msg = Buffer.from(text, 'utf8');
  const lines = signers.map((s) => {
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId >>> 0, 0);
    return `— ${s.name} ${Buffer.concat([id, s.sign(msg)]).toString('base64')}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** A note whose signature by at least one known key verified. */
export interface OpenedNote {
  readonly text: string;
  /** The known keys whose signatures verified. */
  readonly verifiedBy: readonly NoteVerifier[];
}

/**
 * Parses a signed note and checks its signatures against `verifiers`. Signatures from
 * unknown keys are ignored; a signature from a known key that fails rejects the whole
 * note; a note with no verified known signature is rejected. ERR_CHECKPOINT_INVALID.
 */
export function openNote(note: unknown, verifiers: readonly NoteVerifier[]): OpenedNote {
  if (typeof note !== 'string') return invalid('note must be a string');
  if (Buffer.byteLength(note, 'utf8') > MAX_NOTE_BYTES) return invalid('note too large');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note) || /[\ud800-\udfff]/u.test(note)) return invalid('note holds control characters');
  const split = note.lastIndexOf('\n\n');
  if (split < 0) return invalid('note has no signature block');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block.endsWith('\n')) return invalid('signature block must end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) return invalid('too many signatures');
  const message = Buffer.from(text, 'utf8');
  const verifiedBy: NoteVerifier[] = [];
  for (const line of lines) {
    const m = /^— ([^\s+]+) ([A-Za-z0-9+/=]+)$/u.exec(line);
    if (!m) return invalid('malformed signature line');
    const sig = strictBase64(m[2]!);
    if (!sig || sig.length < 5) return invalid('malformed signature');
    const keyId = sig.readUInt32BE(0);
    const matches = verifiers.filter((v) => v.name === m[1] && v.keyId === keyId);
    if (matches.length === 0) continue; // unknown key: ignored, per the spec
    if (matches.length > 1) return invalid(`ambiguous key ${m[1]}`);
    if (!matches[0]!.verify(message, sig.subarray(4))) return invalid(`invalid signature for key ${m[1]}`);
    if (!verifiedBy.includes(matches[0]!)) verifiedBy.push(matches[0]!);
  }
  if (verifiedBy.length === 0) return invalid('no signature from a known key');
  return { text, verifiedBy };
}
