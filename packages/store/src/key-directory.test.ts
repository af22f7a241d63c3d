import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@baton/core';
import { openKeyDirectory } from './key-directory.js';

const mode = (p: string): number => fs.statSync(p).mode & 0o777;
const dirs: string[] = [];
const fresh = (): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-keydir-'));
  dirs.push(d);
  return path.join(d, 'keys');
};
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('openKeyDirectory', () => {
  it('creates the directory owner-only; keys and state are 0600 and read back', async () => {
    const dir = fresh();
    const keys = await openKeyDirectory(dir, 'state.json');
    expect(mode(dir)).toBe(0o700);
    expect(await keys.readState()).toBeUndefined();
    const kp = generateKeyPair();
    await keys.saveKey(kp.thumbprint, kp);
    await keys.writeState({ active: kp.thumbprint });
    expect(mode(path.join(dir, `${kp.thumbprint}.jwk`))).toBe(0o600);
    expect(mode(path.join(dir, 'state.json'))).toBe(0o600);
    expect(JSON.parse((await keys.readState())!)).toEqual({ active: kp.thumbprint });
    expect((await keys.loadKey(kp.thumbprint)).thumbprint).toBe(kp.thumbprint);
  });

  it('drops every private key but the active one, and leaves the state file', async () => {
    const dir = fresh();
    const keys = await openKeyDirectory(dir, 'state.json');
    const [a, b, c] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
    for (const kp of [a, b, c]) await keys.saveKey(kp.thumbprint, kp);
    await keys.writeState({});
    await keys.dropKeysOtherThan(b.thumbprint);
    expect(fs.readdirSync(dir).sort()).toEqual([`${b.thumbprint}.jwk`, 'state.json'].sort());
    await keys.dropKey(b.thumbprint);
    await keys.dropKey(b.thumbprint); // already gone: no error
    expect(fs.readdirSync(dir)).toEqual(['state.json']);
  });

  it('refuses a state file others can read', async () => {
    const dir = fresh();
    const keys = await openKeyDirectory(dir, 'state.json');
    await keys.writeState({});
    fs.chmodSync(path.join(dir, 'state.json'), 0o644);
    await expect(keys.readState()).rejects.toThrow();
  });
});
