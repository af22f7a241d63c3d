/**
 * Generators of valid artifacts (to round-trip and to mutate) and of hostile input (to
 * feed the parsers): scopes, SPIFFE ids, and strings shaped like what each parser
 * expects so the fuzz reaches past its first check.
 */
import fc from 'fast-check';
import { agentSpiffeId, parseScope, type Scope } from '@baton/core';

const NAME_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-';

/** A scope-language name: `[A-Za-z0-9._-]{1,16}`, or `*`. */
export const scopeName: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: fc.constantFrom(...NAME_CHARS), minLength: 1, maxLength: 16 }).filter((s) => s !== '.' && s !== '..') },
  { weight: 1, arbitrary: fc.constant('*') },
);

const idSegment = fc.oneof({ weight: 6, arbitrary: scopeName }, { weight: 1, arbitrary: fc.constant('*') });
const safeNumber = fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.double({ min: -1e6, max: 1e6, noNaN: true, noDefaultInfinity: true }));
const constraintValue = fc.oneof(fc.string({ maxLength: 12 }), safeNumber, fc.boolean());
const constraint = fc
  .record(
    {
      eq: constraintValue,
      in: fc.array(fc.oneof(fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 5 }),
      max: safeNumber,
      min: safeNumber,
      prefix: fc.string({ maxLength: 10 }),
    },
    { requiredKeys: [] },
  )
  .filter((c) => Object.keys(c).length > 0);
const constraintKey = fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/);

/** A valid scope, already normalised by parseScope. */
export const validScope: fc.Arbitrary<Scope> = fc
  .record(
    {
      action: scopeName,
      resource: scopeName,
      id: fc.array(idSegment, { minLength: 1, maxLength: 4 }).map((s) => s.join('/')),
      constraints: fc.dictionary(constraintKey, constraint, { minKeys: 1, maxKeys: 3 }),
    },
    { requiredKeys: ['action', 'resource'] },
  )
  .map((raw) => {
    try {
      return parseScope(raw);
    } catch {
      return parseScope({ action: raw.action, resource: raw.resource });
    }
  });

export const validScopes: fc.Arbitrary<Scope[]> = fc.uniqueArray(validScope, { minLength: 1, maxLength: 4, selector: (s) => JSON.stringify(s) });

const lowerId = fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/);
const taskId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,30}$/);
const instanceId = fc.stringMatching(/^[A-Za-z0-9_-]{16,40}$/);
const trustDomain = fc.stringMatching(/^[a-z0-9]([a-z0-9.-]{0,30}[a-z0-9])?$/).filter((s) => !s.includes('..'));

/** A valid agent SPIFFE id and its parts. */
export const agentId = fc
  .record({ td: trustDomain, orchestration: lowerId, task: taskId, instance: instanceId })
  .map((p) => ({ ...p, uri: agentSpiffeId(p.td, p.orchestration, p.task, p.instance) }));

/** Any SPIFFE-ish path segment, valid or not. */
const segmentish = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{0,12}$/), fc.constantFrom('.', '..', '%2e', 'a b', 'ä', '\u0430', '\u200b', ''));

/** Strings shaped like SPIFFE ids, many of them subtly wrong. */
export const spiffeish: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(fc.constantFrom('spiffe://', 'SPIFFE://', 'spiffe:/', 'spiffe:///', 'https://', ''), fc.oneof(trustDomain, fc.string({ maxLength: 20 })), fc.array(segmentish, { maxLength: 5 }), fc.constantFrom('', '/', '?q', '#f', ':443'))
    .map(([scheme, td, segs, tail]) => `${scheme}${td}${segs.map((s) => `/${s}`).join('')}${tail}`),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 60 }),
);

/** base64url of arbitrary bytes or text. */
export const b64 = (data: string | Uint8Array): string => Buffer.from(data).toString('base64url');

/** Strings shaped like compact JWS: three base64url segments of JSON (or junk), often with an EdDSA header. */
export function jwsish(headers: fc.Arbitrary<Record<string, unknown>>, payloads: fc.Arbitrary<unknown>): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(headers, payloads, fc.uint8Array({ minLength: 0, maxLength: 70 })).map(([h, p, s]) => `${b64(JSON.stringify(h))}.${b64(JSON.stringify(p))}.${b64(s)}`),
    fc.tuple(fc.json(), fc.json(), fc.uint8Array({ minLength: 64, maxLength: 64 })).map(([h, p, s]) => `${b64(h)}.${b64(p)}.${b64(s)}`),
    fc.array(fc.string({ unit: fc.constantFrom(...'ABCDEFGHabcdefgh0123456789-_=+/.'), maxLength: 40 }), { maxLength: 5 }).map((parts) => parts.join('.')),
    fc.string({ unit: 'binary', maxLength: 200 }),
  );
}
