import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase, toPgPlaceholders, type SqlDatabase } from './index.js';

const PG_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-store-'));
const schema = `store_test_${process.pid}_${Date.now() % 100000}`;

const opened: SqlDatabase[] = [];
afterAll(async () => {
  for (const db of opened) {
    if (db.dialect === 'postgres') await db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

const migrations = [
  {
    version: 1,
    name: 'items',
    sqlite: ['CREATE TABLE items (id TEXT PRIMARY KEY, used INTEGER NOT NULL DEFAULT 0, n BIGINT NOT NULL)'],
    postgres: ['CREATE TABLE items (id TEXT PRIMARY KEY, used INTEGER NOT NULL DEFAULT 0, n BIGINT NOT NULL)'],
  },
];

describe.each([
  ['sqlite', () => openDatabase(`sqlite:${path.join(tmp, 'db', 'test.db')}`)],
  ['postgres', () => openDatabase(PG_URL, { schema })],
])('%s store', (dialect, open) => {
  let db: SqlDatabase;

  it('opens and migrates once', async () => {
    db = await open();
    opened.push(db);
    expect(db.dialect).toBe(dialect);
    expect(await migrate(db, 'test', migrations)).toBe(1);
    expect(await migrate(db, 'test', migrations)).toBe(0);
  });

  it('consumes a single-use row exactly once with one atomic statement', async () => {
    await db.run('INSERT INTO items (id, n) VALUES (?, ?)', ['a', 1]);
    const tries = await Promise.all(
      Array.from({ length: 20 }, () => db.run('UPDATE items SET used = 1 WHERE id = ? AND used = 0', ['a'])),
    );
    expect(tries.filter((r) => r.changes === 1)).toHaveLength(1);
    expect(await db.get<{ used: number }>('SELECT used FROM items WHERE id = ?', ['a'])).toEqual({ used: 1 });
  });

  it('rolls a failed transaction back and commits a good one', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO items (id, n) VALUES (?, ?)', ['b', 2]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await db.get('SELECT id FROM items WHERE id = ?', ['b'])).toBeUndefined();
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO items (id, n) VALUES (?, ?)', ['c', 3]);
    });
    expect(await db.all<{ id: string }>('SELECT id FROM items ORDER BY id')).toEqual([{ id: 'a' }, { id: 'c' }]);
  });

  it('returns big integers as numbers', async () => {
    const row = await db.get<{ n: number }>('SELECT n FROM items WHERE id = ?', ['c']);
    expect(row?.n).toBe(3);
  });
});

describe('sqlite file', () => {
  it('is created owner-only', async () => {
    const file = path.join(tmp, 'perm', 'x.db');
    const db = await openDatabase(file);
    opened.push(db);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });
});

describe('toPgPlaceholders', () => {
  it('numbers placeholders in order', () => {
    expect(toPgPlaceholders('SELECT ? , ?, ?')).toBe('SELECT $1 , $2, $3');
  });
});

describe('postgres location', () => {
  it('never carries credentials', async () => {
    const db = await openDatabase('postgres://user:secret@127.0.0.1:5432/test');
    expect(db.location).not.toContain('secret');
    await db.close();
  });
});

describe('sqlite transactions', () => {
  it('serialize many concurrent transactions and keep plain statements out of them', async () => {
    const db = await openDatabase(':memory:');
    opened.push(db);
    await db.exec('CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)');
    const txs = Array.from({ length: 10 }, (_, i) =>
      db
        .transaction(async (tx) => {
          await tx.run('INSERT INTO t (k, v) VALUES (?, ?)', [i, i]);
          await new Promise((r) => setTimeout(r, 1));
          if (i % 2) throw new Error('rollback');
        })
        .catch(() => 'rolled back'),
    );
    const plain = Array.from({ length: 10 }, (_, i) => db.run('INSERT INTO t (k, v) VALUES (?, ?)', [100 + i, i]));
    await Promise.all([...txs, ...plain]);
    const rows = await db.all<{ k: number }>('SELECT k FROM t ORDER BY k');
    expect(rows.map((r) => r.k)).toEqual([0, 2, 4, 6, 8, ...Array.from({ length: 10 }, (_, i) => 100 + i)]);
  });
});

describe('concurrent migrations', () => {
  it('apply once when several replicas migrate at the same moment', async () => {
    const s = `${schema}_race`;
    const dbs = await Promise.all([1, 2, 3].map(() => openDatabase(PG_URL, { schema: s })));
    try {
      const counts = await Promise.all(dbs.map((d) => migrate(d, 'race', migrations)));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1);
    } finally {
      await dbs[0]!.exec(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      for (const d of dbs) await d.close();
    }
  });
});
