import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { generateKeyPair, manualClock } from '@baton/core';
import { TrustBundle, parseCertificate, verifySvid } from '@baton/x509';
import { openFileIdentityCa } from './file-ca.js';
import { memoryIdentityCa } from './identity-ca.js';

const TD = 'baton.local';
const ID = 'spiffe://baton.local/agent/orch-1/task-1/instance00000000000001';
const DAY = 86_400_000;
const dirs: string[] = [];

function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-ca-'));
  dirs.push(d);
  return path.join(d, 'ca');
}

afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('openFileIdentityCa', () => {
  it('creates the CA owner-only: directory 0700, key and state 0600, key file named by kid', async () => {
    const dir = tempDir();
    const ca = await openFileIdentityCa(dir, { trustDomain: TD });
    expect(ca.activeKid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, `${ca.activeKid}.jwk`))).toBe(0o600);
    expect(mode(path.join(dir, 'ca.json'))).toBe(0o600);
    expect(fs.readdirSync(dir).sort()).toEqual([`${ca.activeKid}.jwk`, 'ca.json'].sort());
  });

  it('reopens to the same CA and keeps issuing under it', async () => {
    const dir = tempDir();
    const first = await openFileIdentityCa(dir, { trustDomain: TD });
    const again = await openFileIdentityCa(dir, { trustDomain: TD });
    expect(again.activeKid).toBe(first.activeKid);
    expect(again.authorities()).toEqual(first.authorities());
    const key = generateKeyPair();
    const svid = await again.issue(ID, key.publicKey, Date.now() + 600_000);
    expect(verifySvid(svid.certificate, { bundle: TrustBundle.fromDer(TD, first.authorities()), role: 'client', expectedId: ID, nowMs: Date.now() }).spiffeId.uri).toBe(ID);
  });

  it('rotates by kid: the new CA signs, the old stays trusted (certificate only) until its SVIDs expired', async () => {
    const clock = manualClock(Date.now());
    const dir = tempDir();
    const ca = await openFileIdentityCa(dir, { trustDomain: TD, clock });
    const key = generateKeyPair();
    const old = await ca.issue(ID, key.publicKey, clock.now() + 600_000);
    const { newKid, retiredKid } = await ca.rotate();
    expect(retiredKid).toBe(old.kid);
    expect(ca.activeKid).toBe(newKid);
    expect(fs.existsSync(path.join(dir, `${retiredKid}.jwk`))).toBe(false);
    expect(ca.authorities()).toHaveLength(2);
    const fresh = await ca.issue(ID, key.publicKey, clock.now() + 600_000);
    expect(fresh.kid).toBe(newKid);
    const bundle = TrustBundle.fromDer(TD, ca.authorities());
    for (const s of [old, fresh]) expect(verifySvid(s.certificate, { bundle, role: 'client', nowMs: clock.now() }).spiffeId.uri).toBe(ID);

    // The retired CA survives a restart, then leaves once everything it signed expired.
    const reopened = await openFileIdentityCa(dir, { trustDomain: TD, clock });
    expect(reopened.list().map((c) => c.status)).toEqual(['active', 'retired']);
    expect(await reopened.prune()).toEqual([]);
    clock.advance(2 * 3_600_000);
    expect(await reopened.prune()).toEqual([retiredKid]);
    expect(reopened.authorities()).toHaveLength(1);
    expect((await openFileIdentityCa(dir, { trustDomain: TD, clock })).list().map((c) => c.kid)).toEqual([newKid]);
  });

  it('rotates on its own before the CA certificate runs out, and never issues past it', async () => {
    const clock = manualClock(Date.now());
    const ca = memoryIdentityCa({ trustDomain: TD, clock, caTtlSeconds: 10 * 86_400, rotateBeforeSeconds: 2 * 86_400 });
    const first = ca.activeKid;
    const key = generateKeyPair();
    const capped = await ca.issue(ID, key.publicKey, clock.now() + 30 * DAY);
    expect(capped.notAfter).toBe(parseCertificate(ca.authorities()[0]!).notAfter);
    clock.advance(9 * DAY);
    const later = await ca.issue(ID, key.publicKey, clock.now() + 600_000);
    expect(later.kid).not.toBe(first);
    expect(ca.list().map((c) => c.kid)).toEqual([later.kid, first]);
  });

  it('refuses to issue an SVID that would already be expired', async () => {
    const ca = memoryIdentityCa({ trustDomain: TD });
    await expect(ca.issue(ID, generateKeyPair().publicKey, Date.now() - 1000)).rejects.toThrow(TypeError);
  });

  it.each<[string, (dir: string, kid: string) => void, RegExp]>([
    ['a group-readable directory', (dir) => fs.chmodSync(dir, 0o750), /directory/],
    ['a group-readable key file', (dir, kid) => fs.chmodSync(path.join(dir, `${kid}.jwk`), 0o640), /file/],
    ['a world-readable state file', (dir) => fs.chmodSync(path.join(dir, 'ca.json'), 0o644), /file/],
    ['a key file swapped for another key', (dir, kid) => {
      const jwk = JSON.parse(fs.readFileSync(path.join(dir, `${kid}.jwk`), 'utf8')) as Record<string, string>;
      const fresh = generateKeyPair();
      const d = fresh.privateKey.export({ format: 'jwk' }) as Record<string, string>;
      fs.writeFileSync(path.join(dir, `${kid}.jwk`), JSON.stringify({ ...jwk, x: d['x'], d: d['d'] }), { mode: 0o600 });
    }, /kid/],
    ['a state file of another trust domain', (dir) => {
      const p = path.join(dir, 'ca.json');
      fs.writeFileSync(p, fs.readFileSync(p, 'utf8').replace('"baton.local"', '"evil.example"'), { mode: 0o600 });
    }, /trust domain/],
  ])('refuses to open %s', async (_name, tamper, message) => {
    const dir = tempDir();
    const ca = await openFileIdentityCa(dir, { trustDomain: TD });
    tamper(dir, ca.activeKid);
    await expect(openFileIdentityCa(dir, { trustDomain: TD })).rejects.toThrow(message);
  });

  it('deletes leftover private keys of CAs that are no longer active', async () => {
    const dir = tempDir();
    const ca = await openFileIdentityCa(dir, { trustDomain: TD });
    fs.writeFileSync(path.join(dir, 'stale.jwk'), '{}', { mode: 0o600 });
    await openFileIdentityCa(dir, { trustDomain: TD });
    expect(fs.readdirSync(dir).sort()).toEqual([`${ca.activeKid}.jwk`, 'ca.json'].sort());
  });

  it('never shows private key material', async () => {
    const ca = await openFileIdentityCa(tempDir(), { trustDomain: TD });
    const shown = `${inspect(ca, { depth: 10 })}${JSON.stringify(ca)}`;
    expect(shown).toContain(ca.activeKid);
    expect(shown).not.toMatch(/"d"|privateKey|PRIVATE/);
  });
});
