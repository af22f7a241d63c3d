// Multi-threaded verification must give the same answer as one sequential pass, also for
// tampering at the edges of the ranges the workers split the file into. Worker threads run
// the built package, so this suite uses dist/.
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { generateKeyPair } from '@baton/core';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from './audit-log.js';
import { ENTRY_COLUMNS } from './row-codec.js';
import { createSanitizer } from './sanitizer.js';
import { createNoteSigner } from './signed-note.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import { PKG_DIR, ensureBuilt } from './testing/build-dist.js';
import { inputEvent } from './testing/fixtures.js';

type Dist = typeof import('./index.js');
const origin = 'baton.test/parallel';
const key = generateKeyPair();
const verifier = createNoteSigner(origin, key).verifier!;
let dist: Dist;
let dir: string;
let pristine: string;

beforeAll(async () => {
  ensureBuilt();
  dist = (await import(pathToFileURL(join(PKG_DIR, 'dist', 'index.js')).href)) as Dist;
  dir = mkdtempSync(join(tmpdir(), 'baton-par-'));
  pristine = join(dir, 'pristine.db');
  const store = await createSqliteAuditStore({ path: pristine });
  const log = createAuditLog({ store, signer: createNoteSigner(origin, key), origin, sanitizer: createSanitizer({ key: randomBytes(32) }), checkpointIntervalMs: 0 });
  for (let i = 0; i < 8; i++) {
    await log.append(Array.from({ length: 50 }, () => inputEvent()));
    await log.checkpoint();
  }
  await log.close();
  await store.close();
}, 150_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function copyWith(sql: string): string {
  const path = join(dir, `case-${n++}.db`);
  copyFileSync(pristine, path);
  if (sql) {
    const db = new Database(path);
    db.exec(`DROP TRIGGER audit_entries_no_update; DROP TRIGGER audit_entries_no_delete; ${sql}`);
    db.close();
  }
  return path;
}

const swap = (a: number) =>
  `UPDATE audit_entries SET seq = -1 WHERE seq = ${a}; UPDATE audit_entries SET seq = ${a} WHERE seq = ${a + 1}; UPDATE audit_entries SET seq = ${a + 1} WHERE seq = -1`;

// 400 entries, 4 threads of 100 entries each: [1..100] [101..200] [201..300] [301..400].
const cases: Array<[string, string]> = [
  ['an intact file', ''],
  ['a modification in the first range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 10"],
  ['a modification at the start of a range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 101"],
  ['a modification at the end of a range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 200"],
  ['a deletion at the end of a range', 'DELETE FROM audit_entries WHERE seq = 100'],
  ['a deletion in the last range', 'DELETE FROM audit_entries WHERE seq = 333'],
  ['a reorder across two ranges', swap(100)],
  ['a truncation', 'DELETE FROM audit_entries WHERE seq > 350'],
  // Deep inside a range: the worker hands over to the entry-by-entry pass a window back.
  ['a modification deep in a range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 180"],
  ['a deletion deep in a range', 'DELETE FROM audit_entries WHERE seq = 275'],
  ['a reorder deep in a range', swap(160)],
  [
    'an insertion deep in a range',
    'UPDATE audit_entries SET seq = -seq - 1 WHERE seq > 170; UPDATE audit_entries SET seq = -seq WHERE seq < 0; ' +
      `INSERT INTO audit_entries SELECT 171, 'forged-id', ${ENTRY_COLUMNS.slice(2).join(', ')} FROM audit_entries WHERE seq = 170`,
  ],
  ['a stored number turned into text', "UPDATE audit_entries SET token_bytes = CAST(token_bytes AS TEXT) WHERE seq = 240"],
  ['two breaks (the earlier one wins)', `DELETE FROM audit_entries WHERE seq = 250; UPDATE audit_entries SET outcome = 'deny' WHERE seq = 120`],
];

describe('parallel verification', () => {
  it.each(cases)('matches a sequential pass on %s', async (_d, sql) => {
    const path = copyWith(sql);
    const opts = { verifiers: [verifier], origin };
    const progress: number[] = [];
    const par = await dist.verifyLogFile(path, { ...opts, threads: 4, minEntriesPerThread: 50, onProgress: (c) => progress.push(c) });
    const seq = await dist.verifyLogFile(path, { ...opts, threads: 1 });
    expect([par.threadsUsed, seq.threadsUsed]).toEqual([4, 1]);
    // Only the intact file and a value stored with another type but decoding the same verify.
    expect(seq.ok).toBe(sql === '' || sql.includes('CAST'));
    expect(par.ok).toBe(seq.ok);
    expect(par.firstBad).toEqual(seq.firstBad);
    expect(par.checkpointSize).toBe(seq.checkpointSize);
    if (seq.ok) {
      expect(par.rootHash!.equals(seq.rootHash!)).toBe(true);
      expect(par.entries).toBe(400);
      expect(progress[progress.length - 1]).toBe(400);
    }
  });
});
