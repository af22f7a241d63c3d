import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeEventHash, leafHashOf, ZERO_HASH } from './entry-hash.js';
import type { AuditEntry } from './event.js';
import { rootOfLeafHashes } from './merkle-hash.js';
import { consistencyProof, consistencyProofPlan, inclusionProof, inclusionProofPlan } from './merkle-proof.js';
import type { AuditStore } from './store.js';
import { storedEvent } from './testing/fixtures.js';
import { HARNESSES, type StoreHarness } from './testing/store-harness.js';
import { TreeReader } from './tree-reader.js';
import { verifyEntries } from './verify-entries.js';

const collect = async (it: AsyncIterable<AuditEntry>): Promise<AuditEntry[]> => {
  const out: AuditEntry[] = [];
  for await (const e of it) out.push(e);
  return out;
};
const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => storedEvent(from + i));

describe.each(HARNESSES)('%s store', (_name, makeHarness) => {
  let h: StoreHarness;
  let store: AuditStore;
  beforeEach(async () => {
    h = makeHarness();
    store = await h.open();
  });
  afterEach(async () => {
    await h.cleanup();
  });

  it('appends gap-free, chained entries in one batch and across batches', async () => {
    expect(await store.append(events(1, 3), 100)).toEqual([1, 2, 3].map((sequence) => ({ status: 'accepted', sequence })));
    expect(await store.append(events(4, 2), 200)).toEqual([4, 5].map((sequence) => ({ status: 'accepted', sequence })));
    const all = await collect(store.entries());
    expect(all.map((e) => e.sequence)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]!.prevHash).toBe(ZERO_HASH);
    for (let i = 1; i < all.length; i++) expect(all[i]!.prevHash).toBe(all[i - 1]!.eventHash);
    for (const e of all) expect(computeEventHash(e)).toBe(e.eventHash);
    expect(all[0]!.event).toEqual(storedEvent(1));
    expect(await store.size()).toBe(5);
    expect((await store.get(4))!.loggedAt).toBe(200);
    expect(await store.get(99)).toBeUndefined();
  });

  it('is idempotent by event id, within a batch and across batches', async () => {
    await store.append(events(1, 2), 1);
    const again = await store.append([storedEvent(2), storedEvent(3), storedEvent(3), { ...storedEvent(9), eventId: storedEvent(1).eventId }], 2);
    expect(again).toEqual([
      { status: 'duplicate', sequence: 2 },
      { status: 'accepted', sequence: 3 },
      { status: 'duplicate', sequence: 3 },
      { status: 'duplicate', sequence: 1 },
    ]);
    expect(await store.size()).toBe(3);
  });

  it('refuses UPDATE and DELETE in the database itself', async () => {
    await store.append(events(1, 16), 1); // 16 entries: one stored level-4 subtree
    await store.addCheckpoint({ origin: 'o', size: 16, rootHash: Buffer.alloc(32), note: 'o\n16\nx\n\n— o s\n' }, 1);
    for (const sql of [
      "UPDATE audit_entries SET outcome = 'deny' WHERE seq = 2",
      'DELETE FROM audit_entries WHERE seq = 3',
      'UPDATE audit_tree_nodes SET level = 0',
      'DELETE FROM audit_checkpoints',
    ]) {
      await expect(h.raw(sql)).rejects.toThrow(/append-only/);
    }
    if (h.name === 'postgres') await expect(h.raw('TRUNCATE audit_entries')).rejects.toThrow(/append-only/);
    expect((await collect(store.entries())).length).toBe(16);
    expect((await store.checkpoints()).length).toBe(1);
  });

  it('serializes appenders on other connections (replicas) into one gap-free chain', async () => {
    const other = await h.open();
    const writers = [store, other];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) => writers[i % 2]!.append(events(1000 + i * 10, 10), i)),
    );
    const all = await collect(store.entries());
    expect(all.map((e) => e.sequence)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect((await verifyEntries(all)).ok).toBe(true);
    // Both writers' trees agree with a fresh computation.
    const root = rootOfLeafHashes(all.map((e) => leafHashOf(e.eventHash)));
    expect((await new TreeReader(other).root(120)).equals(root)).toBe(true);
    expect((await new TreeReader(store).root(120)).equals(root)).toBe(true);
  });

  it('keeps the subtree hashes needed for proofs at any size', async () => {
    for (let i = 0; i < 7; i++) await store.append(events(1 + i * 53, 53), i);
    const all = await collect(store.entries());
    const leaves = all.map((e) => leafHashOf(e.eventHash));
    const reader = new TreeReader(store);
    for (const [index, size] of [[0, 1], [5, 17], [200, 371], [370, 371], [64, 256], [255, 300]] as const) {
      expect(await reader.proof(inclusionProofPlan(index, size))).toEqual(inclusionProof(index, size, leaves));
    }
    for (const [m, n] of [[1, 371], [16, 17], [100, 256], [300, 371]] as const) {
      expect(await reader.proof(consistencyProofPlan(m, n))).toEqual(consistencyProof(m, n, leaves));
    }
  });

  it('queries by each filter with sequence pagination', async () => {
    await store.append(
      [
        storedEvent(1, { agent: 'a1', task: 't1', workflow: 'w1', type: 'validation.denied', outcome: 'deny', traceId: 'ab'.repeat(16), time: 10 }),
        storedEvent(2, { agent: 'a2', task: 't1', workflow: 'w1', time: 20 }),
        storedEvent(3, { agent: 'a1', task: 't2', orchestration: 'o2', workflow: 'w2', principal: 'kh:p', time: 30 }),
        storedEvent(4, { agent: 'a1', task: 't1', workflow: 'w1', time: 40 }),
      ],
      1,
    );
    const seqs = async (f: Parameters<AuditStore['query']>[0], limit = 10) => (await store.query(f, limit)).map((e) => e.sequence);
    expect(await seqs({})).toEqual([1, 2, 3, 4]);
    expect(await seqs({ agent: 'a1' })).toEqual([1, 3, 4]);
    expect(await seqs({ agent: 'a1', task: 't1' })).toEqual([1, 4]);
    expect(await seqs({ orchestration: 'o2' })).toEqual([3]);
    expect(await seqs({ workflow: 'w1', outcome: 'allow' })).toEqual([2, 4]);
    expect(await seqs({ type: 'validation.denied' })).toEqual([1]);
    expect(await seqs({ traceId: 'ab'.repeat(16) })).toEqual([1]);
    expect(await seqs({ principal: 'kh:p' })).toEqual([3]);
    expect(await seqs({ since: 20, until: 40 })).toEqual([2, 3]);
    expect(await seqs({ agent: 'a1' }, 2)).toEqual([1, 3]);
    expect(await seqs({ agent: 'a1', afterSequence: 3 })).toEqual([4]);
    expect(await seqs({ agent: "a1' OR '1'='1" })).toEqual([]);
  });

  it('stores checkpoints once per size and returns the latest', async () => {
    expect(await store.latestCheckpoint()).toBeUndefined();
    const cp = (size: number) => ({ origin: 'o', size, rootHash: Buffer.alloc(32, size), note: `o\n${size}\nx\n\n— o sig\n` });
    await store.addCheckpoint(cp(2), 10);
    await store.addCheckpoint(cp(5), 20);
    await store.addCheckpoint({ ...cp(5), note: 'other' }, 30);
    expect(await store.latestCheckpoint()).toMatchObject({ size: 5, createdAt: 20, origin: 'o', note: cp(5).note });
    expect((await store.checkpoints()).map((c) => c.size)).toEqual([2, 5]);
  });

  it('migrates once: reopening an existing database is a no-op', async () => {
    await store.append(events(1, 2), 1);
    const again = await h.open();
    expect(await again.size()).toBe(2);
    expect(await again.append(events(3, 1), 1)).toEqual([{ status: 'accepted', sequence: 3 }]);
  });
});
