/**
 * Owner-only files for key material: the one place Baton writes and checks them, so a
 * key is never left group- or world-readable and a crash never leaves half a key.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { exportPrivateJwk, importPrivateJwk, type KeyPair } from '@baton/core';

/** Creates `dir` (and parents) owner-only, and refuses one that others can access. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  await assertPrivate(dir, 'directory');
}

/** Throws when `p` is accessible by group or others (expected 0600 files, 0700 directories). */
export async function assertPrivate(p: string, kind: 'file' | 'directory' = 'file'): Promise<void> {
  const st = await fs.stat(p);
  if ((st.mode & 0o077) !== 0) {
    throw new Error(`${kind} ${path.basename(p)} is accessible by group or others; expected mode ${kind === 'file' ? '0600' : '0700'}`);
  }
}

/** Writes `text` owner-only and atomically: temp file, fsync, rename. */
export async function writeSecretFile(file: string, text: string): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const handle = await fs.open(tmp, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
}

/** Reads a secret file after checking its mode. */
export async function readSecretFile(file: string): Promise<string> {
  await assertPrivate(file, 'file');
  return fs.readFile(file, 'utf8');
}

/** Stores a signing key as a private JWK named after its kid. */
export async function writeKeyJwk(file: string, keyPair: KeyPair, kid: string): Promise<void> {
  await writeSecretFile(file, `${JSON.stringify({ ...exportPrivateJwk(keyPair), kid, alg: 'EdDSA', use: 'sig' })}\n`);
}

/**
 * Loads a private JWK and checks it is the key its kid names (the RFC 7638 thumbprint):
 * a file name is only a hint.
 */
export async function readKeyJwk(file: string, kid: string): Promise<KeyPair> {
  const kp = importPrivateJwk(JSON.parse(await readSecretFile(file)));
  if (kp.thumbprint !== kid) throw new Error(`key file ${path.basename(file)} does not match its kid`);
  return kp;
}
