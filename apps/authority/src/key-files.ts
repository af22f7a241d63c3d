import fs from 'node:fs';
import path from 'node:path';
import { BatonError, exportPrivateJwk, generateKeyPair, importPrivateJwk, randomBytes, type KeyPair } from '@baton/core';

/**
 * Reads an Ed25519 key pair from a private-JWK file. Refuses files that anyone but the
 * owner can read or write: a key that leaked through permissions is not a key.
 */
export function readKeyFile(file: string): KeyPair {
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) {
    throw new BatonError('ERR_KEY_INVALID', `key file ${path.basename(file)} is accessible by group/others (chmod 600)`);
  }
  return importPrivateJwk(JSON.parse(fs.readFileSync(file, 'utf8')));
}

/**
 * Creates `file` (mode 0600) holding exactly `content`, never overwriting an existing one.
 * Written to a temp file, fsynced, then hard-linked into place and the directory fsynced:
 * the name appears only with the whole content behind it, so a crash never leaves an
 * empty or partial secret. EEXIST when the file exists (another process won: theirs
 * stays). A temp file a crashed writer left behind is never read.
 */
export function writeFileOnce(file: string, content: string): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // a leftover temp of this pid may have had other bits
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  const dfd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(dfd); // the new name itself survives a crash
  } finally {
    fs.closeSync(dfd);
  }
}

/** Writes a key pair as a private JWK with mode 0600, never overwriting an existing file (see {@link writeFileOnce}). */
export function writeKeyFile(file: string, keyPair: KeyPair): void {
  writeFileOnce(file, JSON.stringify(exportPrivateJwk(keyPair)) + '\n');
}

/**
 * The random secret of `bytes` bytes in `file` (base64url text, 0600), generating and
 * storing one when absent. Refuses (ERR_KEY_INVALID) a file anyone but the owner can
 * access, or one that does not hold exactly `bytes` bytes: a damaged key fails closed
 * rather than being silently replaced.
 */
export function loadOrCreateSecretFile(file: string, bytes = 32): Buffer {
  if (!fs.existsSync(file)) {
    try {
      writeFileOnce(file, randomBytes(bytes).toString('base64url') + '\n');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  const st = fs.statSync(file);
  if ((st.mode & 0o077) !== 0) {
    throw new BatonError('ERR_KEY_INVALID', `key file ${path.basename(file)} is accessible by group/others (chmod 600)`);
  }
  const text = fs.readFileSync(file, 'utf8').trim();
  const key = Buffer.from(text, 'base64url');
  if (key.length !== bytes || key.toString('base64url') !== text) {
    throw new BatonError('ERR_KEY_INVALID', `key file ${path.basename(file)} does not hold a ${bytes}-byte key`);
  }
  return key;
}

/** The key pair in `file`, generating and storing a fresh one (0600) when absent. */
export function loadOrCreateKeyFile(file: string): KeyPair {
  if (fs.existsSync(file)) return readKeyFile(file);
  const kp = generateKeyPair();
  try {
    writeKeyFile(file, kp);
    return kp;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKeyFile(file);
    throw err;
  }
}
