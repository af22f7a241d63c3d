import { describe, expect, it } from 'vitest';
import { BatonError } from './errors.js';
import { formatScope, parseScope, parseScopes, scopeKey } from './scope.js';
import type { Scope } from './scope.js';

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

const structured = (constraints: unknown): unknown => ({ action: 'pay', resource: 'invoices', constraints });

describe('parseScope: string form', () => {
  it.each([
    ['read:invoices', { action: 'read', resource: 'invoices' }],
    ['read:invoices:inv-1', { action: 'read', resource: 'invoices', id: 'inv-1' }],
    ['*:*:*', { action: '*', resource: '*', id: '*' }],
    ['read:invoices:acme/2024/*', { action: 'read', resource: 'invoices', id: 'acme/2024/*' }],
    ['read:invoices:acme/*/q1', { action: 'read', resource: 'invoices', id: 'acme/*/q1' }],
    ['Read.v2:in_voices-x:A.b_c-D', { action: 'Read.v2', resource: 'in_voices-x', id: 'A.b_c-D' }],
    [`${'a'.repeat(64)}:${'r'.repeat(64)}:${'i'.repeat(512)}`, { action: 'a'.repeat(64), resource: 'r'.repeat(64), id: 'i'.repeat(512) }],
  ])('%s', (input, expected) => {
    expect(parseScope(input)).toStrictEqual(expected);
  });

  it.each([
    ['empty', ''],
    ['no resource', 'read'],
    ['empty resource', 'read:'],
    ['empty action', ':invoices'],
    ['empty id', 'read:invoices:'],
    ['four parts', 'read:invoices:a:b'],
    ['partial wildcard', 're*:invoices'],
    ['double wildcard', 'read:**'],
    ['partial wildcard in id', 'read:invoices:inv-*'],
    ['space', 'read :invoices'],
    ['slash in resource', 'read:a/b'],
    ['trailing slash in id', 'read:invoices:a/'],
    ['leading slash in id', 'read:invoices:/a'],
    ['empty id segment', 'read:invoices:a//b'],
    ['dot id segment', 'read:invoices:a/./b'],
    ['dot-dot id segment', 'read:invoices:a/../b'],
    ['dot-dot id', 'read:invoices:..'],
    ['dot action', '.:invoices'],
    ['percent', 'read:invoices:%2e%2e'],
    ['Cyrillic а', 're\u0430d:invoices'],
    ['newline', 'read:invoices\n'],
    ['action too long', `${'a'.repeat(65)}:r`],
    ['resource too long', `a:${'r'.repeat(65)}`],
    ['id too long', `a:r:${'i'.repeat(513)}`],
  ])('rejects %s', (_name, input) => {
    expect(codeOf(() => parseScope(input))).toBe('ERR_SCOPE_INVALID');
  });
});

describe('parseScope: structured form', () => {
  it('normalises: sorted deduplicated in sets, no undefined members, no empty constraints, -0 as 0', () => {
    const s = parseScope({
      action: 'pay',
      resource: 'invoices',
      id: undefined,
      constraints: { currency: { in: ['USD', 'EUR', 'USD'] }, amount: { max: 10, min: -0 }, level: { in: [3, 1, 20, 3] } },
    });
    expect(s).toStrictEqual({
      action: 'pay',
      resource: 'invoices',
      constraints: { amount: { max: 10, min: 0 }, currency: { in: ['EUR', 'USD'] }, level: { in: [1, 3, 20] } },
    });
    expect(Object.is(s.constraints!['amount']!.min, 0)).toBe(true);
    expect(parseScope({ action: 'a', resource: 'r', constraints: {} })).toStrictEqual({ action: 'a', resource: 'r' });
    expect(Object.keys(parseScope({ constraints: { b: { eq: true } }, id: 'x', resource: 'r', action: 'a' }))).toEqual([
      'action',
      'resource',
      'id',
      'constraints',
    ]);
  });

  it.each([
    ['eq string', { k: { eq: 'x' } }],
    ['eq number', { k: { eq: 5 } }],
    ['eq boolean', { k: { eq: false } }],
    ['negative bounds', { k: { min: -100, max: -1 } }],
    ['max equals min', { k: { min: 5, max: 5 } }],
    ['fractional bound', { k: { max: 0.5 } }],
    ['largest safe bound', { k: { max: Number.MAX_SAFE_INTEGER, min: -Number.MAX_SAFE_INTEGER } }],
    ['eq with bounds', { k: { eq: 5, max: 10 } }],
    ['in with prefix', { k: { in: ['inv/a', 'inv/b'], prefix: 'inv/' } }],
    ['empty prefix', { k: { prefix: '' } }],
    ['16 constraints', Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`k${i}`, { eq: i }]))],
    ['64 in values', { k: { in: Array.from({ length: 64 }, (_, i) => i) } }],
    ['64-char key', { [`k${'x'.repeat(63)}`]: { eq: 1 } }],
  ])('accepts %s', (_name, constraints) => {
    expect(codeOf(() => parseScope(structured(constraints)))).toBe('ok');
  });

  it('accepts null-prototype objects', () => {
    const s = Object.assign(Object.create(null) as object, { action: 'read', resource: 'x' });
    expect(parseScope(s)).toStrictEqual({ action: 'read', resource: 'x' });
  });

  class Fake {
    action = 'read';
    resource = 'x';
  }
  it.each([
    ['null', null],
    ['number', 7],
    ['array', ['read', 'x']],
    ['class instance', new Fake()],
    ['unknown field', { action: 'read', resource: 'x', scope: 'y' }],
    ['own __proto__ field', JSON.parse('{"action":"read","resource":"x","__proto__":{"id":"*"}}')],
    ['missing action', { resource: 'x' }],
    ['non-string resource', { action: 'read', resource: 7 }],
    ['bad id', { action: 'read', resource: 'x', id: 'a//b' }],
    ['non-string id', { action: 'read', resource: 'x', id: 5 }],
    ['constraints array', structured([])],
    ['constraints null', structured(null)],
    ['constraint key uppercase', structured({ Amount: { max: 1 } })],
    ['constraint key leading digit', structured({ '1a': { max: 1 } })],
    ['constraint key too long', structured({ [`k${'x'.repeat(64)}`]: { max: 1 } })],
    ['constraint key constructor', structured({ constructor: { eq: 1 } })],
    ['constraint key prototype', structured({ prototype: { eq: 1 } })],
    ['constraint key __proto__', structured(JSON.parse('{"__proto__":{"eq":1}}'))],
    ['17 constraints', structured(Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, { eq: i }])))],
    ['empty constraint', structured({ k: {} })],
    ['unknown operator', structured({ k: { lt: 5 } })],
    ['constraint not an object', structured({ k: 5 })],
    ['NaN max', structured({ k: { max: Number.NaN } })],
    ['Infinity max', structured({ k: { max: Number.POSITIVE_INFINITY } })],
    ['-Infinity min', structured({ k: { min: Number.NEGATIVE_INFINITY } })],
    ['NaN eq', structured({ k: { eq: Number.NaN } })],
    ['Infinity in set', structured({ k: { in: [1, Number.POSITIVE_INFINITY] } })],
    ['huge max', structured({ k: { max: 1e300 } })],
    ['unsafe integer max', structured({ k: { max: 2 ** 53 } })],
    ['huge negative min', structured({ k: { min: -(2 ** 53) } })],
    ['string max', structured({ k: { max: '5' } })],
    ['null eq', structured({ k: { eq: null } })],
    ['object eq', structured({ k: { eq: {} } })],
    ['empty in', structured({ k: { in: [] } })],
    ['in not an array', structured({ k: { in: 'a' } })],
    ['65 in values', structured({ k: { in: Array.from({ length: 65 }, (_, i) => i) } })],
    ['mixed in types', structured({ k: { in: [1, '1'] } })],
    ['eq and in of different types', structured({ k: { eq: 1, in: ['1'] } })],
    ['max below min', structured({ k: { max: 1, min: 2 } })],
    ['prefix with max', structured({ k: { prefix: 'a', max: 2 } })],
    ['string eq with max', structured({ k: { eq: 'a', max: 2 } })],
    ['number eq with prefix', structured({ k: { eq: 1, prefix: 'a' } })],
    ['boolean in with min', structured({ k: { in: [true], min: 0 } })],
    ['non-string prefix', structured({ k: { prefix: 5 } })],
    ['prefix too long', structured({ k: { prefix: 'p'.repeat(257) } })],
    ['string value too long', structured({ k: { eq: 'v'.repeat(257) } })],
  ])('rejects %s', (_name, input) => {
    expect(codeOf(() => parseScope(input))).toBe('ERR_SCOPE_INVALID');
  });
});

describe('parseScopes', () => {
  it('parses arrays and space-separated strings', () => {
    expect(parseScopes('read:invoices:* write:invoices:inv-1')).toStrictEqual([
      { action: 'read', resource: 'invoices', id: '*' },
      { action: 'write', resource: 'invoices', id: 'inv-1' },
    ]);
    expect(parseScopes(['read:x', { action: 'write', resource: 'x' }])).toStrictEqual([
      { action: 'read', resource: 'x' },
      { action: 'write', resource: 'x' },
    ]);
    expect(parseScopes('')).toStrictEqual([]);
    expect(parseScopes([])).toStrictEqual([]);
    expect(parseScopes(Array.from({ length: 64 }, () => 'read:x'))).toHaveLength(64);
  });

  it.each([
    ['65 scopes', Array.from({ length: 65 }, () => 'read:x')],
    ['65 scopes as a string', Array.from({ length: 65 }, () => 'read:x').join(' ')],
    ['double space', 'read:x  write:x'],
    ['leading space', ' read:x'],
    ['trailing space', 'read:x '],
    ['tab separator', 'read:x\twrite:x'],
    ['one bad element', ['read:x', 'bad']],
    ['object', { action: 'read', resource: 'x' }],
    ['null', null],
    ['huge string', 'read:x '.repeat(10_000)],
  ])('rejects %s', (_name, input) => {
    expect(codeOf(() => parseScopes(input))).toBe('ERR_SCOPE_INVALID');
  });
});

describe('formatScope and scopeKey', () => {
  it('formats the string form without constraints', () => {
    expect(formatScope({ action: 'read', resource: 'invoices' })).toBe('read:invoices');
    expect(formatScope({ action: 'pay', resource: 'invoices', id: 'a/*', constraints: { amount: { max: 5 } } })).toBe('pay:invoices:a/*');
  });

  it('gives equal keys exactly to equal scopes, whatever the order of keys and in values', () => {
    const a: Scope = { action: 'pay', resource: 'inv', constraints: { cur: { in: ['USD', 'EUR'] }, amount: { min: 1, max: 5 } } };
    const b: Scope = { resource: 'inv', constraints: { amount: { max: 5, min: 1 }, cur: { in: ['EUR', 'USD', 'EUR'] } }, action: 'pay' };
    expect(scopeKey(a)).toBe(scopeKey(b));
    expect(scopeKey(a)).toBe('{"action":"pay","constraints":{"amount":{"max":5,"min":1},"cur":{"in":["EUR","USD"]}},"resource":"inv"}');
    expect(scopeKey(a)).not.toBe(scopeKey({ ...a, constraints: { cur: { in: ['EUR', 'USD'] }, amount: { min: 1, max: 6 } } }));
    expect(scopeKey({ action: 'a', resource: 'r' })).not.toBe(scopeKey({ action: 'a', resource: 'r', id: '*' }));
    expect(scopeKey({ action: 'a', resource: 'r', constraints: { k: { eq: 1 } } })).not.toBe(
      scopeKey({ action: 'a', resource: 'r', constraints: { k: { eq: '1' } } }),
    );
  });

  it('rejects a malformed scope', () => {
    expect(codeOf(() => scopeKey({ action: 'a b', resource: 'r' }))).toBe('ERR_SCOPE_INVALID');
  });
});
