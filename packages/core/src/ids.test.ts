import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatonError } from './errors.js';
import { assertId } from './ids.js';
import type { IdKind } from './ids.js';

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

const good: [IdKind, string][] = [
  ['workflow', 'invoice-approval'],
  ['workflow', '0'],
  ['workflow', 'a.b_c-d'],
  ['workflow', 'a'.repeat(64)],
  ['orchestration', 'orch-2024.07'],
  ['name', 'billing'],
  ['task', 'Approve_Invoice.2'],
  ['task', 'T'.repeat(128)],
  ['instance', 'q3LbX0Zs8kTz1aWc'],
  ['instance', 'A-_'.repeat(21) + 'z'],
];

const bad: [IdKind, unknown][] = [
  ['workflow', ''],
  ['workflow', 'Invoice'],
  ['workflow', '-lead'],
  ['workflow', '.hidden'],
  ['workflow', '.'],
  ['workflow', '..'],
  ['workflow', 'a'.repeat(65)],
  ['workflow', 'a/b'],
  ['workflow', 'a b'],
  ['workflow', 'a\n'],
  ['workflow', 'inv\u043eice'], // Cyrillic о
  ['workflow', 'a%2e'],
  ['orchestration', 'orch:1'],
  ['name', 'ÄBC'],
  ['task', '_task'],
  ['task', 'T'.repeat(129)],
  ['task', '..'],
  ['instance', 'short'],
  ['instance', 'a'.repeat(65)],
  ['instance', 'q3LbX0Zs8kTz1aW='],
  ['instance', 'q3LbX0Zs8kTz1aW.'],
  ['task', 42],
  ['task', null],
  ['task', undefined],
  ['task', ['a']],
];

describe('assertId', () => {
  it.each(good)('%s %j is accepted', (kind, value) => {
    expect(assertId(kind, value)).toBe(value);
  });

  it.each(bad)('%s %j is rejected with ERR_ID_INVALID', (kind, value) => {
    expect(codeOf(() => assertId(kind, value))).toBe('ERR_ID_INVALID');
  });

  it('treats an unknown kind as a caller mistake', () => {
    expect(codeOf(() => assertId('user' as IdKind, 'a'))).toBe('TypeError');
    expect(codeOf(() => assertId('toString' as IdKind, 'a'))).toBe('TypeError');
  });

  it('never throws anything but ERR_ID_INVALID on arbitrary values', () => {
    const kinds = fc.constantFrom<IdKind>('workflow', 'orchestration', 'task', 'name', 'instance');
    fc.assert(
      fc.property(kinds, fc.oneof(fc.string({ unit: 'binary' }), fc.anything()), (kind, value) => {
        const code = codeOf(() => assertId(kind, value));
        expect(['ok', 'ERR_ID_INVALID']).toContain(code);
        if (code === 'ok') expect(typeof value === 'string' && value !== '.' && value !== '..').toBe(true);
      }),
    );
  });
});
