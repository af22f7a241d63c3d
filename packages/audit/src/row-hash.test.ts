// The row encoder used by parallel verification must give exactly the text the entry
// encoder gives for the decoded row — for intact rows and for any tampered value, since a
// difference would either miss tampering or flag an intact entry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_HASH, canonicalEntry, jsonString, sealEntry } from './entry-hash.js';
import { entryToValues, valuesToEntry } from './row-codec.js';
import { canonicalRow } from './row-hash.js';
import { storedEvent } from './testing/fixtures.js';

const str = fc.string({ unit: 'binary', maxLength: 24 });
// What a tampered column may hold: any SQLite value type as better-sqlite3 returns it.
const anyValue = fc.oneof(str, fc.integer(), fc.double(), fc.constant(null), fc.bigInt(), fc.uint8Array({ maxLength: 4 }).map((a) => Buffer.from(a)));
const jsonColumn = fc.oneof(
  fc.constantFrom('[]', '{}', '[1]', '{"a":1}', 'not json', '', 'null', '["x","y"]', '{"b":"2","a":"1"}', '{"\\ud800":"\\u0000"}'),
  fc.array(str, { maxLength: 3 }).map((a) => JSON.stringify(a)),
  fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), str, { maxKeys: 4 }).map((d) => JSON.stringify(d)),
  anyValue,
);

const baseRow = (): unknown[] =>
  entryToValues(sealEntry(storedEvent(3, { intermediateAgents: ['spiffe://a', 'b"c'], attributes: { z: '1', a: '\u2028é' } }), 7, ZERO_HASH, 1_700_000_000_000));

describe('canonicalRow', () => {
  it('equals canonicalEntry(valuesToEntry(row)) for an intact row', () => {
    const row = baseRow();
    expect(canonicalRow(row)).toBe(canonicalEntry(valuesToEntry(row)));
  });

  it('equals canonicalEntry(valuesToEntry(row)) whatever a column holds', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 28 }), anyValue), { maxLength: 4 }), jsonColumn, jsonColumn, (edits, agents, attrs) => {
        const row = baseRow();
        row[20] = agents;
        row[25] = attrs;
        for (const [i, v] of edits) row[i] = v;
        expect(canonicalRow(row)).toBe(canonicalEntry(valuesToEntry(row)));
        // Again, now from the JSON column caches.
        expect(canonicalRow(row)).toBe(canonicalEntry(valuesToEntry(row)));
      }),
      { numRuns: 500 },
    );
  });

  it('tells apart rows that differ only in a JSON column’s stored text', () => {
    const a = baseRow();
    const b = baseRow();
    b[25] = '{"z":"1","a":"\u2028é","x":"y"}';
    expect(canonicalRow(a)).not.toBe(canonicalRow(b));
    b[25] = '{"a":"\u2028é","z":"1"}'; // same map, other key order: the same entry
    expect(canonicalRow(b)).toBe(canonicalRow(a));
  });
});

describe('jsonString', () => {
  it('equals JSON.stringify for any string, including escapes and lone surrogates', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => jsonString(s) === JSON.stringify(s)), { numRuns: 1000 });
    for (const s of ['', '"', '\\', '\u0000', '\u001f', '\u007f', '\ud800', '\udfff', '\ud83d\ude00', 'a\nb', '\u2028']) expect(jsonString(s)).toBe(JSON.stringify(s));
  });

  it('equals JSON.stringify for a non-string smuggled in as one', () => {
    for (const v of [5, null, true, ['a'], { a: 'b' }]) expect(jsonString(v as unknown as string)).toBe(JSON.stringify(v));
  });
});
