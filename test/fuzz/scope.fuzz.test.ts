/**
 * Scopes as they cross every boundary: string form, structured JSON, protobuf on the wire
 * (`scopeToProto` → bytes → `scopeFromProto`) and the hop form. Parsers throw only
 * BatonError on any input; each format round-trips to the same normalised scope; and
 * wire bytes with any byte flipped, inserted or deleted either fail to decode, fail to
 * parse, or parse to a scope that is a valid scope in its own right (never a crash).
 */
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { decodeHopScopes, encodeHopScopes, formatScope, isBatonError, parseScope, parseScopes, scopeKey } from '@baton/core';
import { scopeFromProto, scopeToProto } from '@baton/proto';
import { ScopeSchema } from '@baton/proto/baton/type/v1/scope_pb.js';
import { scopeName, validScope, validScopes } from './support/arbitraries.js';
import { mutateBytes, mutation } from './support/mutate.js';
import { runs } from './support/runs.js';

const hostileNumber = fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e308, 2 ** 53 + 1, -0, 5e-324, '5000', null);
const hostileValue = fc.oneof(fc.jsonValue(), hostileNumber, fc.constantFrom('__proto__', 'constructor'));
const hostileScope = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 80 }),
  fc.tuple(scopeName, scopeName, fc.string({ maxLength: 30 })).map(([a, r, i]) => `${a}:${r}:${i}`),
  fc.record(
    {
      action: fc.oneof(scopeName, hostileValue),
      resource: fc.oneof(scopeName, hostileValue),
      id: fc.oneof(fc.string({ maxLength: 40 }), hostileValue),
      constraints: fc.oneof(
        fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'prototype')), fc.dictionary(fc.constantFrom('eq', 'in', 'max', 'min', 'prefix', 'other'), hostileValue)),
        hostileValue,
      ),
    },
    { requiredKeys: [] },
  ),
);

describe('scope parsers on hostile input', () => {
  it('parseScope and parseScopes throw nothing but ERR_SCOPE_INVALID', () => {
    fc.assert(
      fc.property(hostileScope, (input) => {
        for (const parse of [() => parseScope(input), () => parseScopes([input]), () => decodeHopScopes([input])]) {
          try {
            parse();
          } catch (err) {
            expect(isBatonError(err) && (err.code === 'ERR_SCOPE_INVALID' || err.code === 'ERR_CHAIN_INVALID')).toBe(true);
          }
        }
      }),
      runs(10),
    );
  });
});

describe('scope round-trips', () => {
  it('string form: parse(format(s)) = s for unconstrained scopes', () => {
    fc.assert(
      fc.property(validScope, (s) => {
        const { constraints: _dropped, ...plain } = s;
        expect(parseScope(formatScope(s))).toEqual(parseScope(plain));
      }),
      runs(10),
    );
  });

  it('the wire: scopeFromProto(fromBinary(toBinary(scopeToProto(s)))) = s', () => {
    fc.assert(
      fc.property(validScope, (s) => {
        const bytes = toBinary(ScopeSchema, create(ScopeSchema, scopeToProto(s)));
        expect(scopeFromProto(fromBinary(ScopeSchema, bytes))).toEqual(s);
      }),
      runs(10),
    );
  });

  it('the hop form: decodeHopScopes(encodeHopScopes(ss)) = ss', () => {
    fc.assert(
      fc.property(validScopes, (ss) => {
        expect(decodeHopScopes(JSON.parse(JSON.stringify(encodeHopScopes(ss))))).toEqual(ss);
      }),
      runs(10),
    );
  });

  it('scopeKey: equal keys exactly for equal (normalised) scopes', () => {
    fc.assert(
      fc.property(validScope, validScope, fc.boolean(), (a, other, same) => {
        // Half the time b is a re-parsed copy of a (keys reordered by the JSON trip).
        const b = same ? parseScope(JSON.parse(JSON.stringify(a, Object.keys(a).reverse())) as object) : other;
        expect(scopeKey(a) === scopeKey(b)).toBe(isDeepStrictEqual(a, b));
      }),
      runs(5),
    );
  });
});

describe('scopes off a damaged wire', () => {
  it('mutated scope bytes fail to decode, fail to parse with ERR_SCOPE_INVALID, or yield a valid scope', () => {
    fc.assert(
      fc.property(validScope, mutation, (s, m) => {
        const bytes = mutateBytes(toBinary(ScopeSchema, create(ScopeSchema, scopeToProto(s))), m);
        let msg;
        try {
          msg = fromBinary(ScopeSchema, bytes);
        } catch {
          return; // undecodable: the adapter answers INVALID_ARGUMENT before any handler runs
        }
        try {
          const parsed = scopeFromProto(msg);
          expect(parseScope(parsed)).toEqual(parsed);
        } catch (err) {
          expect(isBatonError(err) && err.code === 'ERR_SCOPE_INVALID').toBe(true);
        }
      }),
      runs(10),
    );
  });
});
