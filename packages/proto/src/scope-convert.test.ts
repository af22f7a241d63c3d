import { describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { BatonError, parseScope } from '@baton/core';
import type { Scope } from '@baton/core';
import { ScopeSchema } from './gen/baton/type/v1/scope_pb.js';
import type { Scope as ProtoScope } from './gen/baton/type/v1/scope_pb.js';
import { scopeFromProto, scopeToProto } from './scope-convert.js';

function viaWire(s: Scope): ProtoScope {
  return fromBinary(ScopeSchema, toBinary(ScopeSchema, create(ScopeSchema, scopeToProto(s))));
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof BatonError ? err.code : `not a BatonError: ${String(err)}`;
  }
  return undefined;
}

describe('scope conversion', () => {
  it.each<[string, unknown]>([
    ['string form', 'read:invoice'],
    ['with id path', 'read:invoice:2024/q1/*'],
    ['wildcards', '*:*'],
    [
      'every constraint kind',
      {
        action: 'pay',
        resource: 'invoice',
        id: 'inv-1',
        constraints: {
          amount: { max: 5000, min: 0.5 },
          currency: { in: ['EUR', 'USD'] },
          approved: { eq: true },
          region: { prefix: 'eu-' },
          level: { eq: 3 },
          tier: { in: [1, 2] },
        },
      },
    ],
  ])('round-trips %s over the wire unchanged', (_n, input) => {
    const s = parseScope(input);
    expect(scopeFromProto(viaWire(s))).toEqual(s);
  });

  it('spells JSON `in` as any_of and a missing id as the empty string', () => {
    const p = scopeToProto(parseScope({ action: 'read', resource: 'doc', constraints: { tag: { in: ['a', 'b'] } } }));
    expect(p.id).toBe('');
    expect(p.constraints?.['tag']?.anyOf?.map((v) => v.kind?.value)).toEqual(['a', 'b']);
  });

  it.each<[string, () => ProtoScope]>([
    ['constraint value with no kind', () => create(ScopeSchema, { action: 'read', resource: 'doc', constraints: { a: { eq: {} } } })],
    ['NaN bound', () => create(ScopeSchema, { action: 'read', resource: 'doc', constraints: { a: { max: Number.NaN } } })],
    ['infinite bound', () => create(ScopeSchema, { action: 'read', resource: 'doc', constraints: { a: { min: -Infinity } } })],
    ['prototype key', () => fromBinary(ScopeSchema, toBinary(ScopeSchema, create(ScopeSchema, { action: 'read', resource: 'doc', constraints: { ['__proto__']: { max: 1 } } })))],
    ['uppercase key', () => create(ScopeSchema, { action: 'read', resource: 'doc', constraints: { Amount: { max: 1 } } })],
    ['mixed-type any_of', () => create(ScopeSchema, { action: 'read', resource: 'doc', constraints: { a: { anyOf: [{ kind: { case: 'stringValue', value: 'x' } }, { kind: { case: 'numberValue', value: 1 } }] } } })],
    ['empty action', () => create(ScopeSchema, { action: '', resource: 'doc' })],
    ['colon smuggled in resource', () => create(ScopeSchema, { action: 'read', resource: 'doc:secret' })],
    ['max below min', () => create(ScopeSchema, { action: 'read', resource: 'doc', constraints: { a: { max: 1, min: 2 } } })],
  ])('rejects %s with ERR_SCOPE_INVALID', (_n, make) => {
    expect(codeOf(() => scopeFromProto(make()))).toBe('ERR_SCOPE_INVALID');
  });
});
