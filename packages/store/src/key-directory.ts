/**
 * A directory of signing keys as Baton keeps them (the issuer's key ring, the identity
 * CA): the active private key as `<kid>.jwk` and one state file, all owner-only. Only the
 * active key's private half stays on disk; other `.jwk` files are leftovers of a crash
 * mid-rotation and are removed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { KeyPair } from '@baton/core';
import { ensurePrivateDir, readKeyJwk, readSecretFile, writeKeyJwk, writeSecretFile } from './secret-files.js';

/** See {@link openKeyDirectory}. */
export interface KeyDirectory {
  saveKey(kid: string, keyPair: KeyPair): Promise<void>;
  loadKey(kid: string): Promise<KeyPair>;
  dropKey(kid: string): Promise<void>;
  /** The state file's text, or undefined when there is none yet. */
  readState(): Promise<string | undefined>;
  /** Writes the state as pretty JSON (atomically, 0600). */
  writeState(state: unknown): Promise<void>;
  /** Removes every private key but `activeKid`'s. */
  dropKeysOtherThan(activeKid: string): Promise<void>;
}

/** Opens (creating owner-only) `dir` with its state in `stateName`. */
export async function openKeyDirectory(dir: string, stateName: string): Promise<KeyDirectory> {
  await ensurePrivateDir(dir);
  const keyFile = (kid: string): string => path.join(dir, `${kid}.jwk`);
  const stateFile = path.join(dir, stateName);
  return {
    saveKey: (kid, keyPair) => writeKeyJwk(keyFile(kid), keyPair, kid),
    loadKey: (kid) => readKeyJwk(keyFile(kid), kid),
    dropKey: (kid) => fs.rm(keyFile(kid), { force: true }),
    async readState() {
      try {
        return await readSecretFile(stateFile);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    writeState: (state) => writeSecretFile(stateFile, `${JSON.stringify(state, null, 2)}\n`),
    async dropKeysOtherThan(activeKid) {
      for (const name of await fs.readdir(dir)) {
        if (name.endsWith('.jwk') && name !== `${activeKid}.jwk`) await fs.rm(path.join(dir, name), { force: true });
      }
    },
  };
}
