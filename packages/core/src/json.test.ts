import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatonError } from './errors.js';
import { canonicalHash, canonicalJson, parseJsonStrict } from './json.js';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof BatonError) return err.code;
    if (err instanceof TypeError) return 'TypeError';
    throw err;
  }
  return 'ok';
}

const nest = (n: number, open: string, close: string, inner = '1'): string => open.repeat(n) + inner + close.repeat(n);

describe('parseJsonStrict: accepts', () => {
  it.each([
    ['{"a":1}', { a: 1 }],
    ['  { "a" : [ 1 , 2 ] , "b" : { "c" : null } }  ', { a: [1, 2], b: { c: null } }],
    ['[]', []],
    ['{}', {}],
    ['"x"', 'x'],
    ['-0.5e3', -500],
    ['true', true],
    ['null', null],
    // the same key in different objects is not a duplicate
    ['{"a":{"a":1},"b":[{"a":1},{"a":2}]}', { a: { a: 1 }, b: [{ a: 1 }, { a: 2 }] }],
    ['{"a":{"b":1},"b":2}', { a: { b: 1 }, b: 2 }],
    // quotes, braces and colons inside strings do not confuse the scan
    ['{"a":"{\\"a\\":1,\\"a\\":2}"}', { a: '{"a":1,"a":2}' }],
    ['{"a\\\\":1,"a":2}', { 'a\\': 1, a: 2 }],
    ['{"k":"x\\\\","a":1}', { k: 'x\\', a: 1 }],
    ['["a","a"]', ['a', 'a']],
    // keys of equal length and last character that differ in the middle
    ['{"abcde":1,"abXde":2,"Xbcde":3}', { abcde: 1, abXde: 2, Xbcde: 3 }],
    ['{"__proto":1,"proto__":2,"Constructor":3,"prototypes":4}', { __proto: 1, proto__: 2, Constructor: 3, prototypes: 4 }],
    // surrogate pairs, raw and escaped
    ['"\u{1F600}"', '\u{1F600}'],
    ['"\\ud83d\\ude00"', '\u{1F600}'],
  ])('%s', (text, expected) => {
    expect(parseJsonStrict(text)).toEqual(expected);
  });

  it('accepts exactly maxDepth levels (default 32)', () => {
    expect(codeOf(() => parseJsonStrict(nest(32, '[', ']')))).toBe('ok');
    expect(codeOf(() => parseJsonStrict(nest(32, '{"a":', '}')))).toBe('ok');
    expect(codeOf(() => parseJsonStrict(nest(3, '[', ']'), { maxDepth: 3 }))).toBe('ok');
  });

  it('tells apart many similar keys, on the fast and the Set path', () => {
    for (const n of [40, 47, 48, 49, 300]) {
      const keys = Array.from({ length: n }, (_, i) => `k${String(i).padStart(3, '0')}z`);
      const text = `{${keys.map((k, i) => `"${k}":${i}`).join(',')}}`;
      expect(Object.keys(parseJsonStrict(text) as object)).toEqual(keys);
    }
  });

  it('handles keys longer than 32 K characters when maxBytes allows', () => {
    const long = 'x'.repeat(70_000);
    const text = `{"":1,"${long}":2,"${long.slice(1)}y":3}`;
    expect(Object.keys(parseJsonStrict(text, { maxBytes: 1 << 20 }) as object)).toHaveLength(3);
    expect(codeOf(() => parseJsonStrict(`{"${long}":1,"${long}":2}`, { maxBytes: 1 << 20 }))).toBe('ERR_JSON_INVALID');
  });

  it('builds objects without touching Object.prototype', () => {
    const v = parseJsonStrict('{"a":{"b":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['b']).toBeUndefined();
  });
});

describe('parseJsonStrict: rejects with ERR_JSON_INVALID', () => {
  const manyKeys = (n: number, dupAt?: number): string =>
    `{${Array.from({ length: n }, (_, i) => `"k${i === dupAt ? 0 : i}":${i}`).join(',')}}`;
  it.each([
    ['duplicate key', '{"a":1,"a":2}'],
    ['duplicate key after a nested object', '{"a":{"b":1},"a":2}'],
    ['duplicate key in a nested object', '{"x":{"a":1,"b":2,"a":3}}'],
    ['duplicate key in an object in an array', '[1,{"a":1,"a":1}]'],
    ['duplicate key, one escaped', '{"a":1,"\\u0061":2}'],
    ['duplicate key, both escaped', '{"\\n":1,"\\u000a":2}'],
    ['duplicate empty key', '{"":1,"":2}'],
    ['duplicate key among 40 keys', manyKeys(40, 39)],
    ['duplicate key among 500 keys (Set path)', manyKeys(500, 499)],
    ['duplicate key with whitespace', '{ "a" : 1 ,\n "a" : 2 }'],
    ['__proto__ key', '{"__proto__":{"polluted":true}}'],
    ['constructor key', '{"constructor":{"prototype":{}}}'],
    ['prototype key', '{"prototype":1}'],
    ['nested __proto__ key', '{"a":[{"b":{"__proto__":1}}]}'],
    ['escaped __proto__ key', '{"\\u005f_proto__":1}'],
    ['escaped constructor key', '{"constructo\\u0072":1}'],
    ['33 levels of arrays', nest(33, '[', ']')],
    ['33 levels of objects', nest(33, '{"a":', '}')],
    ['10 000 levels of arrays', nest(10_000, '[', ']')],
    ['10 000 levels of objects', nest(10_000, '{"a":', '}')],
    ['10 000 unclosed brackets', '['.repeat(10_000)],
    ['empty text', ''],
    ['whitespace only', '  '],
    ['trailing comma', '{"a":1,}'],
    ['single quotes', "{'a':1}"],
    ['NaN', '{"a":NaN}'],
    ['Infinity', '[Infinity]'],
    ['comment', '{"a":1 /* x */}'],
    ['unterminated string', '{"a":"x'],
    ['unterminated escaped string', '{"a":"x\\"}'],
    ['unbalanced close', '{"a":1}}'],
    ['close before open', ']['],
    ['two values', '{} {}'],
    ['byte order mark', '\uFEFF{}'],
    ['bad escape', '{"a\\x":1}'],
    ['raw control character', '"a\u0001b"'],
    ['lone high surrogate', '"\uD800"'],
    ['lone low surrogate in a key', '{"\uDC00":1}'],
    ['escaped lone surrogate', '"\\ud800x"'],
    ['escaped lone surrogate in a key', '{"\\udfff":1}'],
    ['reversed surrogate pair', '"\\ude00\\ud83d"'],
  ])('%s', (_name, text) => {
    expect(codeOf(() => parseJsonStrict(text))).toBe('ERR_JSON_INVALID');
  });

  it('rejects text above maxBytes, counting UTF-8 bytes', () => {
    const big = JSON.stringify('x'.repeat(64 * 1024));
    expect(codeOf(() => parseJsonStrict(big))).toBe('ERR_JSON_INVALID');
    expect(codeOf(() => parseJsonStrict('"abcd"', { maxBytes: 5 }))).toBe('ERR_JSON_INVALID');
    expect(codeOf(() => parseJsonStrict('"abcd"', { maxBytes: 6 }))).toBe('ok');
    // 4 characters, 10 bytes
    expect(codeOf(() => parseJsonStrict('"ééé"', { maxBytes: 7 }))).toBe('ERR_JSON_INVALID');
    expect(codeOf(() => parseJsonStrict('"ééé"', { maxBytes: 8 }))).toBe('ok');
  });

  it('honours a smaller maxDepth, and maxDepth 0 admits only scalars', () => {
    expect(codeOf(() => parseJsonStrict('[[1]]', { maxDepth: 1 }))).toBe('ERR_JSON_INVALID');
    expect(codeOf(() => parseJsonStrict('[]', { maxDepth: 0 }))).toBe('ERR_JSON_INVALID');
    expect(parseJsonStrict('7', { maxDepth: 0 })).toBe(7);
  });

  it('rejects deep nesting on the general path too (escapes present, high maxDepth)', () => {
    expect(codeOf(() => parseJsonStrict(nest(10_000, '["\\n",', ']'), { maxDepth: 200 }))).toBe('ERR_JSON_INVALID');
    expect(codeOf(() => parseJsonStrict(nest(150, '[', ']'), { maxDepth: 200 }))).toBe('ok');
  });

  it('treats caller mistakes as TypeError', () => {
    expect(codeOf(() => parseJsonStrict(42 as unknown as string))).toBe('TypeError');
    expect(codeOf(() => parseJsonStrict('{}', { maxDepth: -1 }))).toBe('TypeError');
    expect(codeOf(() => parseJsonStrict('{}', { maxBytes: Number.NaN }))).toBe('TypeError');
  });
});

// Depth of nesting and whether a forbidden key occurs, to know what parseJsonStrict must do.
function profile(v: unknown, depth = 0): { depth: number; forbidden: boolean } {
  if (v === null || typeof v !== 'object') return { depth, forbidden: false };
  let max = depth + 1;
  let forbidden = false;
  const entries = Array.isArray(v) ? v.map((x) => ['', x] as const) : Object.entries(v);
  for (const [k, child] of entries) {
    if (!Array.isArray(v) && ['__proto__', 'constructor', 'prototype'].includes(k)) forbidden = true;
    const p = profile(child, depth + 1);
    max = Math.max(max, p.depth);
    forbidden ||= p.forbidden;
  }
  return { depth: max, forbidden };
}

describe('parseJsonStrict: properties', { timeout: 60_000 }, () => {
  const jsonText = fc.oneof(fc.json(), fc.json({ stringUnit: 'binary' }), fc.json({ stringUnit: 'binary-ascii' }));

  it('agrees with JSON.parse on valid JSON without duplicates, forbidden keys or deep nesting', () => {
    fc.assert(
      fc.property(jsonText, fc.boolean(), (text, pretty) => {
        const expected: unknown = JSON.parse(text);
        const input = pretty ? JSON.stringify(expected, null, 2) : text;
        const p = profile(expected);
        if (p.forbidden || p.depth > 32) {
          expect(codeOf(() => parseJsonStrict(input))).toBe('ERR_JSON_INVALID');
        } else {
          expect(parseJsonStrict(input)).toStrictEqual(expected);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects any object text with a key repeated', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 2 }), { minKeys: 1 }), fc.nat(), (obj, pick) => {
        const keys = Object.keys(obj);
        const dup = keys[pick % keys.length]!;
        const text = `{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(obj[k])}`).join(',')},${JSON.stringify(dup)}:0}`;
        expect(codeOf(() => parseJsonStrict(text, { maxDepth: 64 }))).toBe('ERR_JSON_INVALID');
      }),
    );
  });

  it('never throws anything but BatonError, and agrees with JSON.parse when it accepts', () => {
    const chunks = fc.constantFrom('{', '}', '[', ']', '"', '\\', ':', ',', 'a', '1', ' ', '"a"', 'u', '\\u0061', 'null', '\uD800');
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.array(chunks, { maxLength: 30 }).map((a) => a.join('')));
    fc.assert(
      fc.property(text, (t) => {
        let result: unknown;
        try {
          result = parseJsonStrict(t);
        } catch (err) {
          expect(err).toBeInstanceOf(BatonError);
          expect((err as BatonError).code).toBe('ERR_JSON_INVALID');
          return;
        }
        expect(result).toStrictEqual(JSON.parse(t));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('canonicalJson', () => {
  it('matches the RFC 8785 §3.2.2 example', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units (RFC 8785 §3.2.3)', () => {
    const input = { '\u20ac': 1, '\r': 2, '\ufb33': 3, '1': 4, '\u{1F600}': 5, '\u0080': 6, '\u00f6': 7 };
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\u{1F600}', '\ufb33'] as const;
    const expected = `{${order.map((k) => `${JSON.stringify(k)}:${input[k]}`).join(',')}}`;
    expect(canonicalJson(input)).toBe(expected);
  });

  it.each([
    [{ b: 1, a: [true, null, 'x'] }, '{"a":[true,null,"x"],"b":1}'],
    [{ a: undefined, b: 2 }, '{"b":2}'],
    [-0, '0'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [0.1 + 0.2, '0.30000000000000004'],
    [[], '[]'],
    [{}, '{}'],
    [Object.assign(Object.create(null) as object, { z: 1, y: 2 }), '{"y":2,"z":1}'],
    ['\u2028\uD800', '"\u2028\\ud800"'],
  ])('%j → %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('accepts shared, non-cyclic references', () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });

  const cyclic: Record<string, unknown> = {};
  cyclic['self'] = cyclic;
  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity in an array', [Number.NEGATIVE_INFINITY]],
    ['undefined', undefined],
    ['undefined array element', [1, undefined]],
    ['sparse array', [1, , 3]],
    ['bigint', 1n],
    ['function', () => 1],
    ['symbol', Symbol('s')],
    ['Date', new Date(0)],
    ['Map', new Map()],
    ['Buffer', Buffer.from('x')],
    ['cycle', cyclic],
  ])('throws TypeError on %s', (_name, value) => {
    expect(codeOf(() => canonicalJson(value))).toBe('TypeError');
  });

  it('is independent of key order and stable through a JSON round trip', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: 'binary' }), (v) => {
        const once = canonicalJson(v);
        expect(canonicalJson(JSON.parse(once))).toBe(once);
        const reversed = JSON.parse(JSON.stringify(v), (_k, x: unknown) =>
          x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).reverse()) : x,
        );
        expect(canonicalJson(reversed)).toBe(once);
      }),
    );
  });
});

describe('canonicalHash', () => {
  it('is SHA-256 of the canonical JSON', () => {
    const expected = createHash('sha256').update('{"a":1,"b":[2,"é"]}', 'utf8').digest();
    expect(canonicalHash({ b: [2, 'é'], a: 1 }).equals(expected)).toBe(true);
  });

  it('differs when any value differs', () => {
    expect(canonicalHash({ a: 1 }).equals(canonicalHash({ a: 2 }))).toBe(false);
    expect(canonicalHash({ a: '1' }).equals(canonicalHash({ a: 1 }))).toBe(false);
  });
});
