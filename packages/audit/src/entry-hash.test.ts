import { canonicalJson, sha256, sha256Hex } from '@baton/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_HASH, canonicalEntry, computeEventHash, entryHashInput, leafHashOf, sealEntry } from './entry-hash.js';
import { hashLeaf } from './merkle-hash.js';
import type { AuditEventFields } from './event.js';
import { storedEvent } from './testing/fixtures.js';

const str = fc.string({ unit: 'binary', maxLength: 40 });
const int = fc.maxSafeNat();
const eventArb: fc.Arbitrary<AuditEventFields> = fc
  .record({
    eventId: str,
    time: int,
    source: str,
    agent: str,
    task: str,
    principal: str,
    resource: str,
    reasonDetail: str,
    delegationDepth: int,
    intermediateAgents: fc.array(str, { maxLength: 4 }),
    attributes: fc.dictionary(fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((k) => k !== '__proto__'), str, { maxKeys: 6 }),
    count: int,
  })
  .map((r) => storedEvent(1, r));

describe('entry hashing', () => {
  it('the fast canonical encoder equals core canonicalJson for any entry', () => {
    fc.assert(
      fc.property(eventArb, int, int, fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 64, maxLength: 64 }), (event, sequence, loggedAt, prevHash) => {
        const entry = { sequence, loggedAt, prevHash, event };
        expect(canonicalEntry(entry)).toBe(canonicalJson(entryHashInput(entry)));
      }),
      { numRuns: 300 },
    );
  });

  it('hashes the canonical encoding with SHA-256 and covers every field', () => {
    const e = sealEntry(storedEvent(1), 1, ZERO_HASH, 5);
    expect(e.eventHash).toBe(sha256Hex(canonicalJson(entryHashInput(e))));
    expect(canonicalEntry(e).startsWith('{"action":"read","agent":')).toBe(true);
    const variants: Array<Partial<AuditEventFields>> = [
      { outcome: 'deny' },
      { attributes: { status: 'x' } },
      { intermediateAgents: ['a'] },
      { reasonDetail: 'y' },
      { count: 2 },
      { traceId: 'ab'.repeat(16) },
    ];
    for (const v of variants) expect(computeEventHash({ ...e, event: { ...e.event, ...v } })).not.toBe(e.eventHash);
    expect(computeEventHash({ ...e, sequence: 2 })).not.toBe(e.eventHash);
    expect(computeEventHash({ ...e, prevHash: 'f'.repeat(64) })).not.toBe(e.eventHash);
    expect(computeEventHash({ ...e, loggedAt: 6 })).not.toBe(e.eventHash);
  });

  it('leaf hashes are SHA-256(0x00 || decoded event hash), also for malformed hashes', () => {
    const good = 'a1'.repeat(32);
    expect(leafHashOf(good).equals(sha256(Buffer.concat([Buffer.from([0]), Buffer.from(good, 'hex')])))).toBe(true);
    // The reusable buffer must not leak bytes from the previous call into a shorter value.
    for (const h of [good.toUpperCase(), `${'b2'.repeat(20)}zz${'b2'.repeat(11)}`, 'c3'.repeat(31), '', 'x'.repeat(64), `${good}00`]) {
      leafHashOf(good);
      expect(leafHashOf(h).equals(hashLeaf(Buffer.from(h, 'hex')))).toBe(true);
    }
    expect(leafHashOf('0'.repeat(64)).equals(leafHashOf('1'.repeat(64)))).toBe(false);
  });

  it('an entry that smuggles non-strings into string fields hashes as core canonicalJson encodes it', () => {
    const e = sealEntry(storedEvent(1), 1, ZERO_HASH, 5);
    const odd = { ...e, event: { ...e.event, action: 5, intermediateAgents: '', attributes: { a: 1 } } } as unknown as typeof e;
    expect(canonicalEntry(odd)).toBe(canonicalJson(entryHashInput(odd)));
  });
});
