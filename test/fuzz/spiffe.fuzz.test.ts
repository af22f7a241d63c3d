/**
 * SPIFFE ids, the names every identity decision rests on. The parsers throw only
 * BatonError on any input and never normalise (whatever they accept, they return
 * unchanged, so a look-alike can never become the id it imitates); ids round-trip
 * through `formatSpiffeId` / `agentSpiffeId` and their parsers; and a valid id with a
 * byte flipped, inserted or deleted, or a letter swapped for a Unicode look-alike or
 * another case, is either refused or is a different id.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { agentSpiffeId, formatSpiffeId, isBatonError, matchSpiffePattern, parseAgentSpiffeId, parseSpiffeId } from '@baton/core';
import { agentId, spiffeish } from './support/arbitraries.js';
import { mutate, mutation } from './support/mutate.js';
import { runs } from './support/runs.js';

/** Look-alikes for ASCII letters an id may contain. */
const CONFUSABLE: Readonly<Record<string, string>> = { a: '\u0430', e: '\u0435', o: '\u043e', p: '\u0440', c: '\u0441', x: '\u0445', i: '\u0456', k: '\u212a', s: '\u0455', '/': '\uff0f', '.': '\u2024', '-': '\u2010' };

describe('SPIFFE id parsers on hostile input', () => {
  it('throw nothing but ERR_SPIFFE_ID_INVALID, and accept only what they return unchanged', () => {
    fc.assert(
      fc.property(spiffeish, (s) => {
        for (const parse of [parseSpiffeId, parseAgentSpiffeId]) {
          try {
            expect(parse(s).uri).toBe(s);
          } catch (err) {
            expect(isBatonError(err) && err.code === 'ERR_SPIFFE_ID_INVALID').toBe(true);
          }
        }
      }),
      runs(20),
    );
  });
});

describe('SPIFFE id round-trips', () => {
  it('agentSpiffeId ↔ parseAgentSpiffeId, and formatSpiffeId ↔ parseSpiffeId', () => {
    fc.assert(
      fc.property(agentId, (id) => {
        const parsed = parseAgentSpiffeId(id.uri);
        expect({ td: parsed.trustDomain, orchestration: parsed.orchestration, task: parsed.task, instance: parsed.instance }).toEqual({
          td: id.td,
          orchestration: id.orchestration,
          task: id.task,
          instance: id.instance,
        });
        const generic = parseSpiffeId(id.uri);
        expect(formatSpiffeId(generic.trustDomain, generic.segments)).toBe(id.uri);
        expect(agentSpiffeId(id.td, id.orchestration, id.task, id.instance)).toBe(id.uri);
      }),
      runs(10),
    );
  });
});

describe('damaged and look-alike ids', () => {
  it('a byte flipped, inserted or deleted: refused, or parsed as exactly the new (different) string', () => {
    fc.assert(
      fc.property(agentId, mutation, (id, m) => {
        const bad = mutate(id.uri, m);
        fc.pre(bad !== undefined);
        try {
          const p = parseSpiffeId(bad!);
          expect(p.uri).toBe(bad);
          expect(p.uri).not.toBe(id.uri);
          expect(matchSpiffePattern(id.uri, bad!)).toBe(false);
        } catch (err) {
          expect(isBatonError(err) && err.code === 'ERR_SPIFFE_ID_INVALID').toBe(true);
        }
      }),
      runs(10),
    );
  });

  it('a letter swapped for a Unicode look-alike is refused; a case change is refused or another id', () => {
    fc.assert(
      fc.property(agentId, fc.nat(), fc.boolean(), (id, at, confusable) => {
        const chars = [...id.uri];
        const i = at % chars.length;
        const ch = chars[i]!;
        const swapped = confusable ? CONFUSABLE[ch] : ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase();
        fc.pre(swapped !== undefined && swapped !== ch);
        chars[i] = swapped!;
        const alike = chars.join('');
        let accepted: string | undefined;
        try {
          accepted = parseSpiffeId(alike).uri;
        } catch (err) {
          expect(isBatonError(err) && err.code === 'ERR_SPIFFE_ID_INVALID').toBe(true);
        }
        if (confusable) expect(accepted).toBeUndefined();
        else if (accepted !== undefined) expect(accepted === id.uri).toBe(false);
      }),
      runs(10),
    );
  });
});
