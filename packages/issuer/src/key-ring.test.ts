import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { jwkThumbprint, manualClock } from '@baton/core';
import { openFileKeyRing } from './file-key-ring.js';
import { memoryKeyRing, type KeyRing } from './key-ring.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-keyring-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const T0 = Math.floor(Date.now() / 1000) * 1000;
const mode = (p: string) => fs.statSync(p).mode & 0o777;

async function verifies(ring: KeyRing, token: string): Promise<boolean> {
  try {
    await jwtVerify(token, createLocalJWKSet(ring.jwks() as never));
    return true;
  } catch {
    return false;
  }
}

function mint(ring: KeyRing, exp: number): string {
  return ring.sign({ typ: 'at+jwt' }, { sub: 'x', exp, iat: exp - 60 }).token;
}

describe.each([
  ['memory', (clock: ReturnType<typeof manualClock>) => Promise.resolve(memoryKeyRing({ clock }))],
  ['file', (clock: ReturnType<typeof manualClock>) => openFileKeyRing(fs.mkdtempSync(path.join(tmp, 'ring-')), { clock })],
] as const)('%s key ring', (_name, open) => {
  it('signs with the active key under kid = RFC 7638 thumbprint, and jose verifies', async () => {
    const clock = manualClock(T0);
    const ring = await open(clock);
    const jwks = ring.jwks();
    expect(jwks.keys).toHaveLength(1);
    const [jwk] = jwks.keys;
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: ring.activeKid, alg: 'EdDSA', use: 'sig' });
    expect(jwkThumbprint(jwk!)).toBe(ring.activeKid);
    expect(jwk).not.toHaveProperty('d');
    const token = mint(ring, T0 / 1000 + 300);
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: ring.activeKid });
    expect(await verifies(ring, token)).toBe(true);
  });

  it('keeps a retired key published until every token it signed expired (plus leeway)', async () => {
    const clock = manualClock(T0);
    const ring = await open(clock);
    const now = T0 / 1000;
    const token = mint(ring, now + 300);
    await ring.noteIssued(ring.activeKid, now + 300);
    const r = await ring.rotate();
    expect(r).toMatchObject({ emergency: false, retiredMaxExp: now + 300 });
    expect(ring.activeKid).toBe(r.newKid);
    expect(ring.status(r.retiredKid)).toBe('retired');
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([r.newKid, r.retiredKid]);
    expect(await verifies(ring, token)).toBe(true);
    clock.set((now + 300 + 30) * 1000);
    expect(await ring.prune()).toEqual([]);
    expect(await verifies(ring, token)).toBe(true);
    // File rings keep a durable upper bound on exp (coarser, never lower).
    clock.set((now + 300 + 31 + (_name === 'file' ? 600 : 0)) * 1000);
    expect(await ring.prune()).toEqual([r.retiredKid]);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([r.newKid]);
    expect(ring.publicKey(r.retiredKid)).toBeUndefined();
  });

  it('emergency rotation revokes the old kid at once', async () => {
    const clock = manualClock(T0);
    const ring = await open(clock);
    const token = mint(ring, T0 / 1000 + 300);
    await ring.noteIssued(ring.activeKid, T0 / 1000 + 300);
    const r = await ring.rotate({ emergency: true });
    expect(ring.status(r.retiredKid)).toBe('revoked');
    expect(ring.revokedKids()).toEqual([r.retiredKid]);
    expect(ring.jwks().keys.map((k) => k.kid)).toEqual([r.newKid]);
    expect(ring.publicKey(r.retiredKid)).toBeUndefined();
    expect(await verifies(ring, token)).toBe(false);
    // The revoked kid is listed until its tokens could no longer be accepted anyway.
    clock.set((T0 / 1000 + 2000) * 1000);
    await ring.prune();
    expect(ring.revokedKids()).toEqual([]);
  });

  it('never shows private key material when printed or serialized', async () => {
    const ring = await open(manualClock(T0));
    const text = `${inspect(ring, { depth: 10, showHidden: true })} ${JSON.stringify(ring)}`;
    expect(text).toContain(ring.activeKid);
    expect(text).not.toMatch(/"d"|privateKey|PRIVATE/);
  });
});

describe('file key ring on disk', () => {
  it('stores keys owner-only, reloads them, and deletes retired private keys', async () => {
    const dir = path.join(tmp, 'keys-a');
    const clock = manualClock(T0);
    const ring = await openFileKeyRing(dir, { clock });
    expect(mode(dir)).toBe(0o700);
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual([`${ring.activeKid}.jwk`, 'keyring.json'].sort());
    for (const f of files) expect(mode(path.join(dir, f))).toBe(0o600);
    const jwk = JSON.parse(fs.readFileSync(path.join(dir, `${ring.activeKid}.jwk`), 'utf8')) as Record<string, string>;
    expect(jwk).toMatchObject({ kty: 'OKP', crv: 'Ed25519', kid: ring.activeKid });
    expect(typeof jwk.d).toBe('string');

    const token = mint(ring, T0 / 1000 + 300);
    await ring.noteIssued(ring.activeKid, T0 / 1000 + 300);
    const again = await openFileKeyRing(dir, { clock });
    expect(again.activeKid).toBe(ring.activeKid);
    expect(await verifies(again, token)).toBe(true);

    const r = await again.rotate();
    expect(fs.existsSync(path.join(dir, `${r.retiredKid}.jwk`))).toBe(false);
    expect(fs.existsSync(path.join(dir, `${r.newKid}.jwk`))).toBe(true);
    const third = await openFileKeyRing(dir, { clock });
    expect(third.activeKid).toBe(r.newKid);
    expect(third.status(r.retiredKid)).toBe('retired');
    expect(await verifies(third, token)).toBe(true);
    // The retirement bound survived the restart.
    clock.set((T0 / 1000 + 331) * 1000);
    expect(await third.prune()).toEqual([]);
  });

  it('refuses a key directory or key file readable by others, and a key file that is not its kid', async () => {
    const dir = path.join(tmp, 'keys-b');
    const ring = await openFileKeyRing(dir);
    fs.chmodSync(dir, 0o755);
    await expect(openFileKeyRing(dir)).rejects.toThrow(/group or others/);
    fs.chmodSync(dir, 0o700);
    const keyFile = path.join(dir, `${ring.activeKid}.jwk`);
    fs.chmodSync(keyFile, 0o644);
    await expect(openFileKeyRing(dir)).rejects.toThrow(/group or others/);
    fs.chmodSync(keyFile, 0o600);
    // Swap in another key under the same name: the kid must be the key's own thumbprint.
    const other = await openFileKeyRing(path.join(tmp, 'keys-c'));
    fs.copyFileSync(path.join(tmp, 'keys-c', `${other.activeKid}.jwk`), keyFile);
    await expect(openFileKeyRing(dir)).rejects.toThrow(/does not match/);
  });
});
