import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@baton/core';
import { formatCheckpointText, parseCheckpointText, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
import { hashLeaf } from './merkle-hash.js';
import { createNoteSigner, createNoteVerifier, formatVerifierKey, noteKeyId, openNote, parseVerifierKey, signNote } from './signed-note.js';

// The reference key and note of golang.org/x/mod/sumdb/note (note_test.go), a C2SP
// signed-note implementation: signer "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK…".
const VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const SEED = Buffer.from('AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz', 'base64').subarray(1);
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

function peterKeyPair(): { privateKey: crypto.KeyObject; publicKey: crypto.KeyObject } {
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), SEED]);
  const privateKey = crypto.createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: crypto.createPublicKey(privateKey) };
}

const code = (c: string) => expect.objectContaining({ code: c });

describe('signed notes (reference vector)', () => {
  it('derives the key id and verifier key string of the reference key', () => {
    const kp = peterKeyPair();
    const signer = createNoteSigner('PeterNeumann', kp);
    expect(signer.keyId).toBe(0xc74f20a3);
    expect(formatVerifierKey('PeterNeumann', kp.publicKey)).toBe(VKEY);
    expect(parseVerifierKey(VKEY).keyId).toBe(0xc74f20a3);
  });

  it('produces the reference signature byte for byte', () => {
    expect(signNote(TEXT, [createNoteSigner('PeterNeumann', peterKeyPair())])).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('opens the reference note, ignoring the unknown key', () => {
    const opened = openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [parseVerifierKey(VKEY)]);
    expect(opened.text).toBe(TEXT);
    expect(opened.verifiedBy.map((v) => v.name)).toEqual(['PeterNeumann']);
  });

  it.each([
    ['no signature block', TEXT],
    ['blank line only', `${TEXT}\n`],
    ['missing final newline', `${TEXT}\n${PETER_SIG.slice(0, -1)}`],
    ['control character', `\u0001${TEXT}\n${PETER_SIG}`],
    ['space in key name', `${TEXT}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`],
    ['trailing junk line', `${TEXT}\n${PETER_SIG}Unexpected line.\n`],
    ['corrupted signature', `${TEXT}\n${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`],
    ['too many signatures', `${TEXT}\n${PETER_SIG.repeat(101)}`],
    ['only unknown keys', `${TEXT}\n${ENOCH_SIG}`],
    ['not a string', 42],
  ])('rejects a note with %s (ERR_CHECKPOINT_INVALID)', (_desc, note) => {
    expect(() => openNote(note, [parseVerifierKey(VKEY)])).toThrowError(code('ERR_CHECKPOINT_INVALID'));
  });

  it('rejects mangled verifier keys with ERR_KEY_INVALID', () => {
    const mangled = [VKEY.slice(1), VKEY.slice(0, -1), VKEY.replace('c74f20a3', 'c74f20a4'), VKEY.replace('+ARpc', '+AZpc'), 'PeterNeumann+c74f20a3', `${VKEY}+x`];
    for (const k of mangled) expect(() => parseVerifierKey(k)).toThrowError(code('ERR_KEY_INVALID'));
  });

  it('matches the spec formula for key ids', () => {
    const kp = generateKeyPair();
    const expected = crypto.createHash('sha256').update(Buffer.concat([Buffer.from('log.example/a\n\x01', 'latin1'), kp.rawPublicKey])).digest().readUInt32BE(0);
    expect(noteKeyId('log.example/a', kp.rawPublicKey)).toBe(expected);
  });
});

describe('checkpoints', () => {
  const origin = 'baton.test/audit';
  const kp = generateKeyPair();
  const signer = createNoteSigner(origin, kp);
  const verifier = createNoteVerifier(origin, kp.publicKey);
  const cp = { origin, size: 12345, rootHash: hashLeaf(Buffer.from('x')) };

  it('formats the three C2SP lines and round-trips', () => {
    const text = formatCheckpointText(cp);
    expect(text).toBe(`${origin}\n12345\n${cp.rootHash.toString('base64')}\n`);
    expect(parseCheckpointText(text)).toEqual(cp);
    const signed = signCheckpoint(cp, signer);
    expect(signed.note.startsWith(`${text}\n— ${origin} `)).toBe(true);
    expect(verifyCheckpoint(signed.note, verifier, { origin })).toMatchObject({ size: 12345, origin });
  });

  it('rejects a checkpoint signed by another key, even under the same name', () => {
    const other = createNoteSigner(origin, generateKeyPair());
    const forged = signCheckpoint(cp, other).note;
    expect(() => verifyCheckpoint(forged, verifier)).toThrowError(code('ERR_CHECKPOINT_INVALID'));
  });

  it('rejects a tampered size or root, and another origin', () => {
    const note = signCheckpoint(cp, signer).note;
    expect(() => verifyCheckpoint(note.replace('\n12345\n', '\n12346\n'), verifier)).toThrowError(code('ERR_CHECKPOINT_INVALID'));
    const otherRoot = hashLeaf(Buffer.from('y')).toString('base64');
    expect(() => verifyCheckpoint(note.replace(cp.rootHash.toString('base64'), otherRoot), verifier)).toThrowError(code('ERR_CHECKPOINT_INVALID'));
    expect(() => verifyCheckpoint(note, verifier, { origin: 'baton.test/other' })).toThrowError(code('ERR_CHECKPOINT_INVALID'));
  });

  it.each([
    ['leading zero size', `${origin}\n012\n${cp.rootHash.toString('base64')}\n`],
    ['negative size', `${origin}\n-1\n${cp.rootHash.toString('base64')}\n`],
    ['short root', `${origin}\n1\n${cp.rootHash.subarray(1).toString('base64')}\n`],
    ['non-canonical base64', `${origin}\n1\n${cp.rootHash.toString('base64').replace(/=$/, '')}\n`],
    ['extension line', `${origin}\n1\n${cp.rootHash.toString('base64')}\nextra\n`],
    ['empty origin', `\n1\n${cp.rootHash.toString('base64')}\n`],
    ['origin with space', `a b\n1\n${cp.rootHash.toString('base64')}\n`],
    ['huge size', `${origin}\n99999999999999999\n${cp.rootHash.toString('base64')}\n`],
  ])('rejects checkpoint text with %s', (_d, text) => {
    expect(() => parseCheckpointText(text)).toThrowError(code('ERR_CHECKPOINT_INVALID'));
  });
});
