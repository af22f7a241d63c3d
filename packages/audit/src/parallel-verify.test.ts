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
import { signCheckpoint } from './checkpoint.js';
import { sealEntry } from './entry-hash.js';
import { ENTRY_COLUMNS, valuesToEntry } from './row-codec.js';
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
    // Some values JSON escapes or that are not ASCII: SQLite's text of them is not the
    // canonical text, so the workers must take the column-by-column path for those rows.
    const odd = (j: number) => (j % 7 === 3 ? { resource: `inv "${j}" \\ é 😀`, reasonDetail: `line 1\nline "2"` } : {});
    await log.append(Array.from({ length: 50 }, (_x, j) => inputEvent(odd(j))));
    await log.checkpoint();
  }
  await log.close();
  await store.close();
  const db = new Database(pristine, { readonly: true });
  expect(db.prepare(`SELECT count(*) AS n FROM audit_entries WHERE instr(resource, '"') > 0 AND instr(reason_detail, char(10)) > 0`).get()).toEqual({ n: 56 });
  db.close();
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

// 400 entries, 4 threads taking ranges of 25 entries in turn: [1..25] [26..50] …;
// signed checkpoints every 50 entries. The last column says whether the file still verifies.
const cases: Array<[string, string, boolean]> = [
  ['an intact file', '', true],
  ['a modification in the first range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 10", false],
  ['a modification of the first entry', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 1", false],
  ['a modification of the last entry', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 400", false],
  ['a modification at the start of a range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 101", false],
  ['a modification at the end of a range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 200", false],
  ['a deletion at the end of a range', 'DELETE FROM audit_entries WHERE seq = 100', false],
  ['a deletion in the last range', 'DELETE FROM audit_entries WHERE seq = 333', false],
  ['a reorder across two ranges', swap(100), false],
  ['a truncation', 'DELETE FROM audit_entries WHERE seq > 350', false],
  ['a truncation inside the last range, between checkpoints', 'DELETE FROM audit_entries WHERE seq > 310', false],
  // Deep inside a range: the worker hands over to the entry-by-entry pass a window back.
  ['a modification deep in a range', "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 180", false],
  ['a deletion deep in a range', 'DELETE FROM audit_entries WHERE seq = 275', false],
  ['a reorder deep in a range', swap(160), false],
  [
    'an insertion deep in a range',
    'UPDATE audit_entries SET seq = -seq - 1 WHERE seq > 170; UPDATE audit_entries SET seq = -seq WHERE seq < 0; ' +
      `INSERT INTO audit_entries SELECT 171, 'forged-id', ${ENTRY_COLUMNS.slice(2).join(', ')} FROM audit_entries WHERE seq = 170`,
    false,
  ],
  ['two breaks (the earlier one wins)', `DELETE FROM audit_entries WHERE seq = 250; UPDATE audit_entries SET outcome = 'deny' WHERE seq = 120`, false],
  // Values SQLite would write into the text differently from the entry encoder.
  ['a stored number turned into text', 'UPDATE audit_entries SET token_bytes = CAST(token_bytes AS TEXT) WHERE seq = 240', true],
  ['a text value stored as a blob of the same bytes', 'UPDATE audit_entries SET agent = CAST(agent AS BLOB) WHERE seq = 140', true],
  ['a number beyond 2^53', 'UPDATE audit_entries SET token_bytes = 9007199254740993 WHERE seq = 130', false],
  ['a number stored as a real', 'UPDATE audit_entries SET count = 1.0 WHERE seq = 230', true],
  ['a quote smuggled into a value', `UPDATE audit_entries SET action = action || '","x' WHERE seq = 150`, false],
  ['invalid UTF-8 in a value', "UPDATE audit_entries SET resource = CAST(x'c0a2' AS TEXT) WHERE seq = 260", false],
  ['an event hash in upper case', 'UPDATE audit_entries SET event_hash = upper(event_hash) WHERE seq = 270', false],
];

describe('parallel verification', () => {
  const opts = { verifiers: [verifier], origin };

  // Everything a sequential pass reports, the parallel one must report the same.
  async function expectSameAsSequential(path: string, extra: { checkpoints?: string[] } = {}) {
    const progress: number[] = [];
    const par = await dist.verifyLogFile(path, { ...opts, ...extra, threads: 4, minEntriesPerThread: 50, onProgress: (c) => progress.push(c) });
    const seq = await dist.verifyLogFile(path, { ...opts, ...extra, threads: 1 });
    expect([par.threadsUsed, seq.threadsUsed]).toEqual([4, 1]);
    const { threadsUsed: _p, rootHash: parRoot, ...parRest } = par;
    const { threadsUsed: _s, rootHash: seqRoot, ...seqRest } = seq;
    expect(parRest).toEqual(seqRest);
    expect(parRoot!.toString('hex')).toBe(seqRoot!.toString('hex'));
    expect(progress[progress.length - 1]).toBe(seq.entries);
    return seq;
  }

  it.each(cases)('matches a sequential pass on %s', async (_d, sql, verifies) => {
    const seq = await expectSameAsSequential(copyWith(sql));
    expect(seq.ok).toBe(verifies);
    if (verifies) expect(seq).toMatchObject({ entries: 400, checkpointSize: 400 });
  });

  it.each([25, 26, 75, 125, 130])('matches a sequential pass on entry %i edited and re-hashed (its successor no longer links)', async (at) => {
    const path = copyWith('');
    const db = new Database(path);
    db.exec('DROP TRIGGER audit_entries_no_update');
    const row = db.prepare(`SELECT ${ENTRY_COLUMNS.join(', ')} FROM audit_entries WHERE seq = ?`).raw(true).get(at) as unknown[];
    const e = valuesToEntry(row);
    const forged = sealEntry({ ...e.event, outcome: 'deny' }, e.sequence, e.prevHash, e.loggedAt);
    db.prepare("UPDATE audit_entries SET outcome = 'deny', event_hash = ? WHERE seq = ?").run(forged.eventHash, at);
    db.close();
    const seq = await expectSameAsSequential(path);
    expect(seq.firstBad).toMatchObject({ sequence: at, problem: 'modified' });
  });

  it('matches a sequential pass on a checkpoint from elsewhere that does not match', async () => {
    // Signed by the log's key, at a size inside the third range, over another tree.
    const bogus = signCheckpoint({ origin, size: 260, rootHash: randomBytes(32) }, createNoteSigner(origin, key)).note;
    const seq = await expectSameAsSequential(copyWith(''), { checkpoints: [bogus] });
    expect(seq.firstBad).toMatchObject({ sequence: 251, problem: 'root_mismatch' });
    expect(seq).toMatchObject({ entries: 260, lastSequence: 260, checkpointSize: 250 });
  });
});
