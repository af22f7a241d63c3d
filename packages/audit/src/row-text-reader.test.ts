// The text SQLite assembles for a row must be exactly canonicalRow of the row's stored
// values, whatever the file holds: a difference would let a tampered row verify in the
// parallel pass and fail in a sequential one (or the other way round). The table here has
// the log's column names but no declared types, so any value of any storage class stays
// as written — as in a file edited byte by byte.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ZERO_HASH, sealEntry } from './entry-hash.js';
import { ENTRY_COLUMNS, entryToValues } from './row-codec.js';
import { canonicalRow } from './row-hash.js';
import { RowTextReader } from './row-text-reader.js';
import { storedEvent } from './testing/fixtures.js';

let dir: string;
let db: Database.Database;
let reader: RowTextReader;
const cols = ENTRY_COLUMNS.join(', ');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'baton-rowtext-'));
  const path = join(dir, 'rows.db');
  db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF'); // a scratch file: thousands of one-row commits
  db.exec(`CREATE TABLE audit_entries (${ENTRY_COLUMNS.map((c) => (c === 'seq' ? 'seq INTEGER PRIMARY KEY' : c)).join(', ')})`);
  reader = new RowTextReader(path);
});
afterAll(() => {
  reader.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

const intact = (i: number): unknown[] =>
  entryToValues(
    sealEntry(storedEvent(i, { intermediateAgents: i % 2 ? ['spiffe://a'] : [], attributes: i % 3 ? { z: '1', a: 'é' } : {} }), i, ZERO_HASH, 1_700_000_000_000 + i),
  );

// Stores `values` at `seq` and returns the reader's text and canonicalRow of the row.
// JS integers are stored as INTEGER (better-sqlite3 binds numbers as REAL), `{ real }` as
// REAL, and `{ text: Buffer }` as TEXT with those raw bytes (e.g. invalid UTF-8).
function both(seq: number, values: unknown[]): { fast: string; reference: string } {
  const row = values.slice();
  row[0] = seq;
  const asText = row.map((v) => typeof v === 'object' && v !== null && 'text' in v);
  const params = row.map((v, i) => {
    if (asText[i]) return (v as { text: Buffer }).text;
    if (typeof v === 'object' && v !== null && 'real' in v) return (v as { real: number }).real;
    return typeof v === 'number' && Number.isSafeInteger(v) && !Object.is(v, -0) ? BigInt(v) : v;
  });
  db.prepare(`INSERT OR REPLACE INTO audit_entries (${cols}) VALUES (${ENTRY_COLUMNS.map((_c, i) => (asText[i] ? 'CAST(? AS TEXT)' : '?')).join(', ')})`).run(...params);
  const [r] = reader.page(seq, seq, 1);
  const stored = db.prepare(`SELECT ${cols} FROM audit_entries WHERE seq = ?`).raw(true).get(seq) as unknown[];
  return { fast: reader.text(r!), reference: canonicalRow(stored) };
}

const str = fc.string({ unit: 'binary', maxLength: 12 });
const risky = fc.constantFrom('"', '\\', '\u0000', '\n', '\u001f', '\u007f', 'é', '\u2028', '😀', '","agent":"x', '05', '-0', '1e3', '');
const anyValue = fc.oneof(
  str,
  risky,
  fc.integer(),
  fc.constantFrom(2 ** 53, -(2 ** 53), 1.5, -0, 1e21, 0.1, { real: 1 }, { real: 0 }, { real: -5 }, { real: 1e300 }),
  fc.double().map((real) => ({ real })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constant(null),
  fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a)),
  // TEXT with arbitrary bytes, including invalid UTF-8 and bytes of ASCII delimiters
  fc.uint8Array({ maxLength: 6 }).map((a) => ({ text: Buffer.from(a) })),
  fc.constantFrom(...['c0a2', 'e282', 'eda080', 'ff22', 'e2', 'f09f98'].map((h) => ({ text: Buffer.from(h, 'hex') }))),
);

describe('RowTextReader', () => {
  it('gives canonicalRow for intact rows, from the text SQLite assembles', () => {
    const slow = vi.spyOn(reader, 'fullText');
    for (let i = 1; i <= 12; i++) {
      const { fast, reference } = both(i, intact(i));
      expect(fast).toBe(reference);
    }
    expect(slow).not.toHaveBeenCalled();
    slow.mockRestore();
  });

  it('gives canonicalRow whatever the columns hold (type, bytes, escapes)', () => {
    let seq = 100;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 28 }), anyValue), { minLength: 1, maxLength: 3 }), (edits) => {
        const row = intact(7);
        for (const [i, v] of edits) row[i] = v;
        const { fast, reference } = both(++seq, row);
        expect(fast).toBe(reference);
      }),
      { numRuns: 1500 },
    );
  });

  it('takes the slow path for values SQLite would write differently', () => {
    // A quote inside a value: SQLite's text would not escape it.
    const quoted = intact(3);
    quoted[14] = 'a","agent":"b';
    // An integer beyond 2^53 in a number column, and a real, and digits as text.
    const big = intact(3);
    big[24] = 9007199254740993n;
    const real = intact(3);
    real[26] = { real: 1 };
    const digits = intact(3);
    digits[26] = '01';
    const slow = vi.spyOn(reader, 'fullText');
    for (const [k, row] of [quoted, big, real, digits].entries()) {
      const { fast, reference } = both(1000 + k, row);
      expect(fast).toBe(reference);
    }
    expect(slow).toHaveBeenCalledTimes(4);
    slow.mockRestore();
    expect(reader.fullText(424242)).toBe('');
  });

  it('gives canonicalRow when the number columns were redeclared as text', () => {
    // TEXT affinity turns the bounds of a range check into text too ('05' would pass it).
    const path = join(dir, 'retyped.db');
    const other = new Database(path);
    const numbers = new Set([2, 5, 18, 23, 24, 26, 27, 28]);
    other.exec(`CREATE TABLE audit_entries (${ENTRY_COLUMNS.map((c, i) => (c === 'seq' ? 'seq INTEGER PRIMARY KEY' : numbers.has(i) ? `${c} TEXT` : c)).join(', ')})`);
    const asInteger = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : v);
    const rows = [intact(1), intact(2), intact(3)];
    rows[1]![26] = '05';
    rows[2]![24] = ' 7';
    rows.forEach((r, k) => other.prepare(`INSERT INTO audit_entries (${cols}) VALUES (${ENTRY_COLUMNS.map(() => '?').join(', ')})`).run(k + 1, ...r.slice(1).map(asInteger)));
    other.close();
    const retyped = new RowTextReader(path);
    try {
      const stored = new Database(path, { readonly: true });
      const all = stored.prepare(`SELECT ${cols} FROM audit_entries ORDER BY seq`).raw(true).all() as unknown[][];
      stored.close();
      const page = retyped.page(1, 3, 10);
      const slow = vi.spyOn(retyped, 'fullText');
      expect(page.map((r) => retyped.text(r))).toEqual(all.map((v) => canonicalRow(v)));
      // Numbers stored as text never take SQLite's text, even when it would be right.
      expect(slow.mock.calls).toEqual([[1], [2], [3]]);
    } finally {
      retyped.close();
    }
  });
});
