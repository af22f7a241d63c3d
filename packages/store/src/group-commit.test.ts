import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { openSqlite, type SqlDatabase } from './index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-group-'));
const toClose: Array<{ close(): unknown }> = [];
afterAll(async () => {
  for (const c of toClose.reverse()) await Promise.resolve(c.close()).catch(() => undefined);
  fs.rmSync(tmp, { recursive: true, force: true });
});

let n = 0;
let db: SqlDatabase;
/** A second connection: it sees only what is committed. */
let observer: Database.Database;
let file: string;

beforeEach(async () => {
  file = path.join(tmp, `g${++n}.db`);
  db = openSqlite(file);
  toClose.push(db);
  await db.exec(`CREATE TABLE t (k TEXT PRIMARY KEY, used INTEGER NOT NULL DEFAULT 0);
    CREATE TABLE parent (id INTEGER PRIMARY KEY);
    CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`);
  observer = new Database(file, { readonly: true });
  toClose.push(observer);
});

const committed = (): string[] => (observer.prepare('SELECT k FROM t ORDER BY rowid').all() as { k: string }[]).map((r) => r.k);
const insert = (k: string) => db.run('INSERT INTO t (k) VALUES (?)', [k]);
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('sqlite group commit', () => {
  it('shares one COMMIT between concurrent writers and acknowledges none before it', async () => {
    const seenAtAck: number[] = [];
    const writes = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? insert(`p${i}`) : db.transaction(async (tx) => tx.run('INSERT INTO t (k) VALUES (?)', [`t${i}`]))).then(() => {
        seenAtAck.push(committed().length);
      }),
    );
    // The statements already ran on the connection, but nothing is committed yet.
    expect(committed()).toEqual([]);
    await Promise.all(writes);
    // Every writer saw all 40 rows committed when it was acknowledged: one shared COMMIT.
    expect(seenAtAck).toEqual(Array.from({ length: 40 }, () => 40));
  });

  it('commits at the size cap without waiting for the next macrotask', async () => {
    const writes = Array.from({ length: 300 }, (_, i) => insert(`k${i}`));
    expect(committed()).toHaveLength(256);
    await Promise.all(writes);
    expect(committed()).toHaveLength(300);
  });

  it('settles writers in the order they arrived and applies their writes in that order', async () => {
    const order: string[] = [];
    const keys = Array.from({ length: 30 }, (_, i) => `o${String(i).padStart(2, '0')}`);
    await Promise.all(
      keys.map((k, i) =>
        (i % 3 === 0 ? db.transaction(async (tx) => tx.run('INSERT INTO t (k) VALUES (?)', [k])) : insert(k)).then(() => order.push(k)),
      ),
    );
    expect(order).toEqual(keys);
    expect(committed()).toEqual(keys);
  });

  it('undoes only the transaction that threw (savepoint), the rest of the group commits', async () => {
    const results = await Promise.allSettled([
      db.transaction(async (tx) => tx.run('INSERT INTO t (k) VALUES (?)', ['a'])),
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (k) VALUES (?)', ['b1']);
        await tx.run("UPDATE t SET used = 1 WHERE k = 'a'");
        throw new Error('boom');
      }),
      insert('c'),
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t (k) VALUES (?)', ['d']);
        // Keys that a rolled-back transaction wrote are free again inside the same group.
        await tx.run('INSERT INTO t (k) VALUES (?)', ['b1']);
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason).toHaveProperty('message', 'boom');
    expect(committed()).toEqual(['a', 'c', 'd', 'b1']);
    expect(observer.prepare("SELECT used FROM t WHERE k = 'a'").get()).toEqual({ used: 0 });
  });

  it('fails a plain statement alone (constraint) and commits the others', async () => {
    const results = await Promise.allSettled([insert('x'), insert('x'), insert('y')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(committed()).toEqual(['x', 'y']);
  });

  it('rejects every writer of a group whose COMMIT fails, keeps none of their writes, and recovers', async () => {
    const results = await Promise.allSettled([
      insert('before'),
      db.transaction(async (tx) => tx.run('INSERT INTO child (id, pid) VALUES (1, 999)')), // checked at COMMIT
      db.transaction(async (tx) => tx.run('INSERT INTO t (k) VALUES (?)', ['tx'])),
      insert('after'),
    ]);
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    for (const r of results) expect(String((r as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect(committed()).toEqual([]);
    expect(observer.prepare('SELECT COUNT(*) AS c FROM child').get()).toEqual({ c: 0 });
    await insert('later');
    expect(committed()).toEqual(['later']);
  });

  it('rejects the whole group when a statement rolls the shared transaction back, and refuses the rest of that callback', async () => {
    await insert('dup');
    let afterKill: unknown;
    const results = await Promise.allSettled([
      insert('early'),
      db.transaction(async (tx) => {
        await tx.run('INSERT OR ROLLBACK INTO t (k) VALUES (?)', ['dup']).catch(() => undefined);
        // The group's transaction is gone: this must not run in autocommit mode.
        afterKill = await tx.run('INSERT INTO t (k) VALUES (?)', ['orphan']).catch((e: Error) => e.message);
      }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(afterKill).toBe('the transaction was rolled back');
    expect(committed()).toEqual(['dup']);
    await insert('next');
    expect(committed()).toEqual(['dup', 'next']);
  });

  it('keeps a transaction that spans macrotasks whole and lets nothing run inside it', async () => {
    const seen: string[][] = [];
    const tx = db.transaction(async (t) => {
      await t.run('INSERT INTO t (k) VALUES (?)', ['t1']);
      await tick(); // the group's setImmediate fires meanwhile: it must not commit half of us
      seen.push(committed());
      await t.run('INSERT INTO t (k) VALUES (?)', ['t2']);
    });
    const plain = insert('p');
    await tick();
    seen.push(committed());
    await Promise.all([tx, plain]);
    expect(seen[0]).toEqual([]);
    expect(committed()).toEqual(['t1', 't2', 'p']);
  });

  it('makes reads wait for the open group, so they never see an unacknowledged write', async () => {
    const events: string[] = [];
    const write = insert('r').then(() => events.push('write'));
    const read = db.get<{ k: string }>('SELECT k FROM t WHERE k = ?', ['r']).then((row) => events.push(`read ${row?.k}`));
    await Promise.all([write, read]);
    expect(events).toEqual(['write', 'read r']);
  });

  it('consumes a single-use row once when consumers race in one group', async () => {
    await insert('once');
    const tries = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2
          ? db.run('UPDATE t SET used = 1 WHERE k = ? AND used = 0', ['once'])
          : db.transaction(async (tx) => tx.run('UPDATE t SET used = 1 WHERE k = ? AND used = 0', ['once'])),
      ),
    );
    expect(tries.filter((r) => r.changes === 1)).toHaveLength(1);
  });

  it('commits the open group on close and refuses work afterwards', async () => {
    const writes = Promise.all([insert('c1'), db.transaction(async (tx) => tx.run('INSERT INTO t (k) VALUES (?)', ['c2']))]);
    await db.close();
    await writes;
    expect(committed()).toEqual(['c1', 'c2']);
    await expect(insert('c3')).rejects.toThrow(/not open/);
    const reopened = openSqlite(file);
    toClose.push(reopened);
    expect(await reopened.all('SELECT k FROM t ORDER BY rowid')).toEqual([{ k: 'c1' }, { k: 'c2' }]);
  });
});
