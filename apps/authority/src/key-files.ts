import fs from 'node:fs';
import path from 'node:path';
import { BatonError, exportPrivateJwk, generateKeyPair, importPrivateJwk, type KeyPair } from '@baton/core';

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
 * Writes a key pair as a private JWK with mode 0600, never overwriting an existing file.
 * Written to a temp file, fsynced, then hard-linked into place: the name appears only
 * with the whole key behind it, so a crash never leaves an empty key file.
 */
export function writeKeyFile(file: string, keyPair: KeyPair): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeSync(fd, JSON.stringify(exportPrivateJwk(keyPair)) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.linkSync(tmp, file); // EEXIST when another process won: theirs stays
  } finally {
    fs.rmSync(tmp, { force: true });
  }
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
