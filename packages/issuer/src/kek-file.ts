import fs from 'node:fs/promises';
import path from 'node:path';
import { b64urlDecode, b64urlEncode, randomBytes } from '@baton/core';

const KEK_RE = /^[A-Za-z0-9_-]{43}$/;

async function readKek(file: string): Promise<Buffer> {
  const st = await fs.stat(file);
  if ((st.mode & 0o077) !== 0) throw new Error(`key-encryption key file ${path.basename(file)} is accessible by group or others; expected mode 0600`);
  const text = (await fs.readFile(file, 'utf8')).trim();
  if (!KEK_RE.test(text)) throw new Error(`key-encryption key file ${path.basename(file)} is not 32 bytes of base64url`);
  return b64urlDecode(text);
}

/**
 * The 32-byte key-encryption key in `file` (base64url text, mode 0600), generating it on
 * first use. Replicas that share signing keys through the store (`openStoreKeyRing`) must
 * all hold the same file: copy it from the first replica. A file readable by group or
 * others is refused.
 *
 * @example const kek = await loadOrCreateKekFile('/var/lib/baton/keys/keyring.kek');
 */
export async function loadOrCreateKekFile(file: string): Promise<Buffer> {
  if (typeof file !== 'string' || file === '') throw new TypeError('loadOrCreateKekFile needs a file path');
  try {
    return await readKek(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const kek = randomBytes(32);
  try {
    await fs.writeFile(file, `${b64urlEncode(kek)}\n`, { mode: 0o600, flag: 'wx' });
    return kek;
  } catch (err) {
    // Another process created it first: use theirs.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readKek(file);
    throw err;
  }
}
