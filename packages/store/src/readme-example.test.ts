/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 */
import { afterAll, describe, expect, it } from 'vitest';

// #region readme
import { migrate, openDatabase } from '@baton/store';

// 'sqlite:./data/baton.db' by default; 'postgres://baton@db.internal/baton' to scale out.
const db = await openDatabase(':memory:');
await migrate(db, 'example', [
  {
    version: 1,
    name: 'one-time codes',
    sqlite: ['CREATE TABLE codes (hash TEXT PRIMARY KEY, used_at BIGINT)'],
    postgres: ['CREATE TABLE codes (hash TEXT PRIMARY KEY, used_at BIGINT)'],
  },
]);
await db.run('INSERT INTO codes (hash) VALUES (?)', ['h1']);

// Single use by one atomic statement: holds across replicas sharing PostgreSQL.
const consume = async () => (await db.run('UPDATE codes SET used_at = ? WHERE hash = ? AND used_at IS NULL', [Date.now(), 'h1'])).changes === 1;
const first = await consume(); // true
const second = await consume(); // false: a replay
// #endregion

afterAll(() => db.close());

describe('README example: one SQL surface', () => {
  it('consumes a one-time value exactly once', () => {
    expect(first).toBe(true);
    expect(second).toBe(false);
  });

  it('records migrations and applies each once', async () => {
    expect(await migrate(db, 'example', [{ version: 1, name: 'one-time codes', sqlite: ['SELECT 1'], postgres: ['SELECT 1'] }])).toBe(0);
    expect(await db.get<{ name: string }>('SELECT name FROM baton_migrations WHERE scope = ? AND version = 1', ['example'])).toEqual({ name: 'one-time codes' });
  });
});
