import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJws, exportPrivateJwk, generateKeyPair, manualClock, randomBytes, verifyJws } from '@baton/core';
import { openDatabase, type SqlDatabase } from '@baton/store';
import { loadOrCreateKekFile } from './kek-file.js';
import { openSealedJwk, sealPrivateJwk } from './sealed-key.js';
import { openStoreKeyRing, type StoreKeyRing } from './store-key-ring.js';
import { openStore, PG_URL, STORES } from './testing/harness.js';

const T0 = 1_700_000_000_000;
const verifiesWith = (ring: StoreKeyRing, token: string) => {
  const jws = decodeJws(token);
  const key = ring.publicKey(jws.header.kid as string);
  return key !== undefined && verifyJws(jws, key);
};

describe.each(STORES)('openStoreKeyRing (%s)', (kind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A fresh store and a second connection to it (a second replica). */
  async function twoReplicas(): Promise<[SqlDatabase, SqlDatabase]> {
    const first = await openStore(kind, 'ring');
    cleanups.push(() => first.cleanup());
    if (kind === 'sqlite') return [first.db, first.db];
    const second = await openDatabase(PG_URL, { schema: first.schema! });
    cleanups.unshift(() => second.close());
    return [first.db, second];
  }
  const open = async (db: SqlDatabase, kek: Uint8Array, clock = manualClock(T0)) => {
    const ring = await openStoreKeyRing(db, { kek, clock, refreshIntervalMs: 0 });
    cleanups.unshift(() => ring.close());
    return ring;
  };

  it('replicas share one active key; a rotation on one reaches the other on refresh', async () => {
    const kek = randomBytes(32);
    const [dbA, dbB] = await twoReplicas();
    const a = await open(dbA, kek);
    const b = await open(dbB, kek);
    expect(b.activeKid).toBe(a.activeKid);
    const t = b.sign({ typ: 'at+jwt' }, { sub: 'x' });
    expect(verifiesWith(a, t.token)).toBe(true);

    const first = a.activeKid;
    const r = await a.rotate();
    expect(r).toMatchObject({ retiredKid: first, emergency: false });
    expect(b.activeKid).toBe(first); // not yet
    await b.refresh();
    expect(b.activeKid).toBe(r.newKid);
    expect(b.status(first)).toBe('retired');
    expect(b.jwks().keys.map((k) => k.kid)).toEqual([r.newKid, first]);
    expect(verifiesWith(a, b.sign({ typ: 'at+jwt' }, { sub: 'y' }).token)).toBe(true);

    const e = await b.rotate({ emergency: true });
    await a.refresh();
    expect(a.status(r.newKid)).toBe('revoked');
    expect(a.revokedKids()).toEqual([r.newKid]);
    expect(a.publicKey(r.newKid)).toBeUndefined();
    expect(a.activeKid).toBe(e.newKid);
  });

  it('keeps private keys out of the store in clear, and only the active one at all', async () => {
    const kek = randomBytes(32);
    const [db] = await twoReplicas();
    const ring = await open(db, kek);
    const old = ring.activeKid;
    await ring.rotate();
    const rows = await db.all<{ kid: string; status: string; sealed_private: string | null; public_jwk: string }>(
      'SELECT kid, status, sealed_private, public_jwk FROM issuer_signing_keys',
    );
    expect(rows.find((r) => r.kid === old)).toMatchObject({ status: 'retired', sealed_private: null });
    const active = rows.find((r) => r.status === 'active')!;
    expect(active.sealed_private).toMatch(/^v1\./);
    expect(JSON.parse(active.public_jwk)).not.toHaveProperty('d');
    const d = openSealedJwk(kek, active.kid, active.sealed_private!).d;
    for (const r of rows) expect(JSON.stringify(r)).not.toContain(d);
    expect(JSON.stringify(ring)).not.toContain(d);
  });

  it('refuses to start with another key-encryption key, or a sealed key moved to another kid', async () => {
    const [dbA, dbB] = await twoReplicas();
    const ring = await open(dbA, randomBytes(32));
    await expect(openStoreKeyRing(dbB, { kek: randomBytes(32), refreshIntervalMs: 0 })).rejects.toThrow(/key-encryption key differs/);
    const other = generateKeyPair();
    const kek = randomBytes(32);
    const moved = sealPrivateJwk(kek, other.thumbprint, exportPrivateJwk(other));
    expect(() => openSealedJwk(kek, ring.activeKid, moved)).toThrow(/cannot be opened/);
    await expect(openStoreKeyRing(dbA, { kek: new Uint8Array(16) })).rejects.toThrow(TypeError);
  });

  // SQLite has one connection per process: nothing there runs concurrently.
  it.runIf(kind === 'postgres')('creates exactly one first key when replicas start together', async () => {
    const first = await openStore(kind, 'ringrace');
    cleanups.push(() => first.cleanup());
    const kek = randomBytes(32);
    const dbs = await Promise.all(Array.from({ length: 4 }, () => openDatabase(PG_URL, { schema: first.schema! })));
    for (const db of dbs) cleanups.unshift(() => db.close());
    const rings = await Promise.all(dbs.map((db) => open(db, kek)));
    expect(new Set(rings.map((r) => r.activeKid)).size).toBe(1);
    const n = await first.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM issuer_signing_keys');
    expect(Number(n!.n)).toBe(1);
    // Concurrent rotations serialize: each retires the key the other made, one stays active.
    await Promise.all(rings.slice(0, 2).map((r) => r.rotate()));
    const rows = await first.db.all<{ status: string }>('SELECT status FROM issuer_signing_keys');
    expect(rows.map((r) => r.status).sort()).toEqual(['active', 'retired', 'retired']);
  });

  it('prunes retired keys once every token they signed expired, across replicas', async () => {
    const kek = randomBytes(32);
    const clock = manualClock(T0);
    const [dbA, dbB] = await twoReplicas();
    const a = await open(dbA, kek, clock);
    const b = await open(dbB, kek, clock);
    const old = a.activeKid;
    await b.noteIssued(old, T0 / 1000 + 300);
    await a.noteIssued(old, T0 / 1000 + 100); // lower: never lowers the stored bound
    await a.rotate();
    clock.advance(300_000);
    expect(await b.prune()).toEqual([]); // slack + leeway not yet passed
    clock.advance((600 + 31) * 1000);
    expect(await b.prune()).toEqual([old]);
    await a.refresh();
    expect(a.status(old)).toBeUndefined();
    expect(a.jwks().keys).toHaveLength(1);
  });

  it('revoke() marks a retired kid revoked for every replica; the active kid and unknown kids are refused', async () => {
    const kek = randomBytes(32);
    const [dbA, dbB] = await twoReplicas();
    const a = await open(dbA, kek);
    const b = await open(dbB, kek);
    const old = a.activeKid;
    await a.rotate();
    expect(await b.revoke(b.activeKid === old ? 'x'.repeat(43) : b.activeKid)).toBe(false);
    expect(await b.revoke(old)).toBe(true);
    expect(await b.revoke(old)).toBe(true);
    await a.refresh();
    expect(a.status(old)).toBe('revoked');
    expect(await a.revoke(a.activeKid)).toBe(false);
  });
});

describe('loadOrCreateKekFile', () => {
  it('creates a 0600 file once, reads it back, and refuses one others can read', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-kek-'));
    try {
      const file = path.join(dir, 'keys', 'keyring.kek');
      const a = await loadOrCreateKekFile(file);
      expect(a).toHaveLength(32);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(Buffer.compare(await loadOrCreateKekFile(file), a)).toBe(0);
      const both = await Promise.all([loadOrCreateKekFile(path.join(dir, 'race.kek')), loadOrCreateKekFile(path.join(dir, 'race.kek'))]);
      expect(Buffer.compare(both[0], both[1])).toBe(0);
      fs.chmodSync(file, 0o644);
      await expect(loadOrCreateKekFile(file)).rejects.toThrow(/group or others/);
      fs.writeFileSync(path.join(dir, 'short.kek'), 'abc\n', { mode: 0o600 });
      await expect(loadOrCreateKekFile(path.join(dir, 'short.kek'))).rejects.toThrow(/32 bytes/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
