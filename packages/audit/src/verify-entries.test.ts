import { describe, expect, it } from 'vitest';
import { leafHashOf, sealEntry } from './entry-hash.js';
import type { AuditEntry } from './event.js';
import { rootOfLeafHashes } from './merkle-hash.js';
import { chain, storedEvent } from './testing/fixtures.js';
import { verifyEntries } from './verify-entries.js';

const N = 40;
const rootAt = (entries: AuditEntry[], size: number) => rootOfLeafHashes(entries.slice(0, size).map((e) => leafHashOf(e.eventHash)));
const checkpointOf = (entries: AuditEntry[], size = entries.length) => ({ origin: 'o', size, rootHash: rootAt(entries, size) });
const renumber = (entries: AuditEntry[]): AuditEntry[] => entries.map((e, i) => ({ ...e, sequence: i + 1 }));

describe('verifyEntries', () => {
  it('accepts an intact log and reports its root', async () => {
    const log = chain(N);
    const progress: number[] = [];
    const r = await verifyEntries(log, { checkpoints: [checkpointOf(log, 13), checkpointOf(log)], onProgress: (c) => progress.push(c), progressEvery: 10 });
    expect(r).toMatchObject({ ok: true, entries: N, lastSequence: N, checkpointSize: N });
    expect(r.rootHash!.equals(rootAt(log, N))).toBe(true);
    expect(progress).toEqual([10, 20, 30, 40, 40]);
  });

  it('accepts async iterables and an empty log', async () => {
    async function* gen() {
      yield* chain(5);
    }
    expect((await verifyEntries(gen())).ok).toBe(true);
    expect(await verifyEntries([])).toMatchObject({ ok: true, entries: 0, lastSequence: 0 });
  });

  // Each case tampers with a copy of a 40-entry log the way someone with write access to
  // the database could, and names the entry verification must report.
  const K = 17;
  const cases: Array<[string, (log: AuditEntry[]) => AuditEntry[], number, string]> = [
    ['a field edited in place', (l) => l.map((e) => (e.sequence === K ? { ...e, event: { ...e.event, outcome: 'deny' as const } } : e)), K, 'modified'],
    ['the stored event hash edited', (l) => l.map((e) => (e.sequence === K ? { ...e, eventHash: 'f'.repeat(64) } : e)), K, 'modified'],
    ['an entry edited and re-hashed', (l) => l.map((e) => (e.sequence === K ? sealEntry({ ...e.event, resource: 'x' }, K, e.prevHash, e.loggedAt) : e)), K, 'modified'],
    ['an entry deleted', (l) => l.filter((e) => e.sequence !== K), K, 'deleted'],
    ['three entries deleted', (l) => l.filter((e) => e.sequence < K || e.sequence > K + 2), K, 'deleted'],
    ['an entry deleted and the rest renumbered', (l) => renumber(l.filter((e) => e.sequence !== K)), K, 'deleted'],
    ['two entries swapped', (l) => renumber([...l.slice(0, K - 1), l[K]!, l[K - 1]!, ...l.slice(K + 1)]), K, 'reordered'],
    ['an entry moved three places later', (l) => renumber([...l.slice(0, K - 1), l[K]!, l[K + 1]!, l[K + 2]!, l[K - 1]!, ...l.slice(K + 3)]), K, 'reordered'],
    [
      'a forged, correctly chained entry inserted (later ones renumbered)',
      (l) => renumber([...l.slice(0, K - 1), sealEntry(storedEvent(999), K, l[K - 2]!.eventHash, 1), ...l.slice(K - 1)]),
      K,
      'inserted',
    ],
    ['an old entry copied in (later ones renumbered)', (l) => renumber([...l.slice(0, K - 1), l[K - 6]!, ...l.slice(K - 1)]), K, 'inserted'],
    ['a junk entry inserted (later ones renumbered)', (l) => renumber([...l.slice(0, K - 1), { ...l[5]!, eventHash: '0'.repeat(64) }, ...l.slice(K - 1)]), K, 'inserted'],
    [
      'an entry rewritten with its whole tail re-hashed',
      (l) => {
        const out = l.slice(0, K - 1);
        for (const e of l.slice(K - 1)) out.push(sealEntry(e.sequence === K ? { ...e.event, outcome: 'deny' } : e.event, e.sequence, out[out.length - 1]!.eventHash, e.loggedAt));
        return out;
      },
      1,
      'root_mismatch',
    ],
    ['the last entries truncated', (l) => l.slice(0, N - 5), N - 4, 'truncated'],
  ];

  it.each(cases)('detects %s and names the entry', async (_desc, tamper, sequence, problem) => {
    const log = chain(N);
    const r = await verifyEntries(tamper(log), { checkpoints: [checkpointOf(log)] });
    expect(r.ok).toBe(false);
    expect(r.firstBad).toMatchObject({ sequence, problem });
    expect(r.firstBad!.detail.length).toBeGreaterThan(0);
  });

  it('narrows a re-hashed rewrite to the range after the last matching checkpoint', async () => {
    const log = chain(N);
    const rewritten = log.slice(0, 29);
    for (const e of log.slice(29)) rewritten.push(sealEntry({ ...e.event, resource: 'y' }, e.sequence, rewritten[rewritten.length - 1]!.eventHash, e.loggedAt));
    const r = await verifyEntries(rewritten, { checkpoints: [checkpointOf(log, 10), checkpointOf(log, 25), checkpointOf(log, 35), checkpointOf(log)] });
    expect(r.firstBad).toMatchObject({ sequence: 26, problem: 'root_mismatch' });
    expect(r.checkpointSize).toBe(25);
  });

  it('verifies a middle range when given where to start', async () => {
    const log = chain(N);
    const r = await verifyEntries(log.slice(10), { start: { sequence: 11, prevHash: log[9]!.eventHash } });
    expect(r).toMatchObject({ ok: true, entries: 30, lastSequence: N });
    expect(r.rootHash).toBeUndefined();
  });
});
