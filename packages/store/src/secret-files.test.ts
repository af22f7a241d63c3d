import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@baton/core';
import { assertPrivate, ensurePrivateDir, readKeyJwk, readSecretFile, writeKeyJwk, writeSecretFile } from './index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-secrets-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('secret files', () => {
  it('creates owner-only directories and files, replacing atomically', async () => {
    const dir = path.join(tmp, 'a', 'keys');
    await ensurePrivateDir(dir);
    expect(fs.statSync(dir).mode & 0o777).toBe(0o700);
    const file = path.join(dir, 'state.json');
    await writeSecretFile(file, 'one');
    await writeSecretFile(file, 'two');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(await readSecretFile(file)).toBe('two');
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('refuses files and directories others can read', async () => {
    const file = path.join(tmp, 'loose.json');
    fs.writeFileSync(file, 'x', { mode: 0o644 });
    await expect(readSecretFile(file)).rejects.toThrow(/accessible by group or others/);
    const dir = path.join(tmp, 'loose-dir');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    await expect(ensurePrivateDir(dir)).rejects.toThrow(/expected mode 0700/);
    await expect(assertPrivate(dir, 'directory')).rejects.toThrow();
  });

  it('stores a key under its kid and refuses a file holding another key', async () => {
    const kp = generateKeyPair();
    const other = generateKeyPair();
    const file = path.join(tmp, `${kp.thumbprint}.jwk`);
    await writeKeyJwk(file, kp, kp.thumbprint);
    expect((await readKeyJwk(file, kp.thumbprint)).thumbprint).toBe(kp.thumbprint);
    await writeKeyJwk(file, other, kp.thumbprint);
    await expect(readKeyJwk(file, kp.thumbprint)).rejects.toThrow(/does not match its kid/);
  });
});
