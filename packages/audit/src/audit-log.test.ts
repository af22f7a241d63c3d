import { randomBytes } from 'node:crypto';
import { generateKeyPair, manualClock } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from './audit-log.js';
import { verifyCheckpoint } from './checkpoint.js';
import type { AuditEntry } from './event.js';
import { checkConsistency, checkInclusionProof } from './prove.js';
import { createSanitizer } from './sanitizer.js';
import { createNoteSigner } from './signed-note.js';
import type { AuditStore } from './store.js';
import { inputEvent, newEventId } from './testing/fixtures.js';
import { HARNESSES, type StoreHarness } from './testing/store-harness.js';

const origin = 'baton.test/audit';
const logKey = generateKeyPair();
const signer = createNoteSigner(origin, logKey);
const sanitizer = createSanitizer({ key: randomBytes(32) });

describe.each(HARNESSES)('audit log on %s', (_name, makeHarness) => {
  let h: StoreHarness;
  let store: AuditStore;
  let log: AuditLog;
  const clock = manualClock(1_800_000_000_000);
  beforeEach(async () => {
    h = makeHarness();
    store = await h.open();
    log = createAuditLog({ store, signer, origin, sanitizer, clock, checkpointIntervalMs: 0 });
  });
  afterEach(async () => {
    await log.close();
    await h.cleanup();
  });

  it('rejects bad events individually and stores the good ones in order', async () => {
    const good1 = inputEvent();
    const good2 = inputEvent({ type: 'validation.denied', reasonCode: 'ERR_SCOPE_DENIED', reasonDetail: 'write:invoice not in scope' });
    const results = await log.append([
      good1,
      inputEvent({ type: 'token.exploded' }),
      { ...inputEvent(), eventId: 'bad id!' },
      inputEvent({ attributes: { status: 'x'.repeat(5000) } }),
      'not an event',
      good2,
      good1,
    ]);
    expect(results.map((r) => [r.status, r.code ?? '', r.sequence])).toEqual([
      ['accepted', '', 1],
      ['rejected', 'ERR_AUDIT_EVENT_INVALID', 0],
      ['rejected', 'ERR_AUDIT_EVENT_INVALID', 0],
      ['rejected', 'ERR_MESSAGE_TOO_LARGE', 0],
      ['rejected', 'ERR_AUDIT_EVENT_INVALID', 0],
      ['accepted', '', 2],
      ['duplicate', '', 1],
    ]);
    expect(results[2]!.eventId).toBe('bad id!');
    const { entries } = await log.query({});
    expect(entries.map((e) => e.event.eventId)).toEqual([good1.eventId, good2.eventId]);
    expect(entries[1]!.event.reasonDetail).toBe('write:invoice not in scope');
    expect(entries[0]!.loggedAt).toBe(clock.now());
  });

  it('group-commits concurrent appends into gap-free sequences', async () => {
    const batches = Array.from({ length: 20 }, () => [inputEvent(), inputEvent()]);
    const results = await Promise.all(batches.map((b) => log.append(b)));
    const seqs = results.flat().map((r) => r.sequence).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    results.forEach((r, i) => expect(r.map((x) => x.eventId)).toEqual(batches[i]!.map((e) => e.eventId)));
    expect((await log.verify()).ok).toBe(true);
  });

  it('signs checkpoints on demand and proves inclusion against them', async () => {
    await log.append(Array.from({ length: 37 }, () => inputEvent()));
    const cp = await log.checkpoint();
    expect(verifyCheckpoint(cp.note, signer.verifier!, { origin })).toMatchObject({ size: 37 });
    for (const seq of [1, 17, 37]) {
      const proof = await log.inclusionProof(seq);
      expect(proof.checkpoint).toBe(cp.note);
      expect(checkInclusionProof(proof, signer.verifier!).size).toBe(37);
    }
    await log.append([inputEvent()]);
    // Entry beyond the latest checkpoint: a new checkpoint is signed for the proof.
    const p38 = await log.inclusionProof(38);
    expect(p38.treeSize).toBe(38);
    expect(() => checkInclusionProof({ ...p38, leafIndex: 36 }, signer.verifier!)).toThrowError(expect.objectContaining({ code: 'ERR_MERKLE_PROOF_INVALID' }));
    await expect(log.inclusionProof(39)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(log.inclusionProof(0)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(log.inclusionProof(5, 99)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('proves consistency between checkpoints and detects an inconsistent (forked) one', async () => {
    await log.append(Array.from({ length: 5 }, () => inputEvent()));
    const a = await log.checkpoint();
    await log.append(Array.from({ length: 6 }, () => inputEvent()));
    const b = await log.checkpoint();
    const proof = await log.consistencyProof(a.size, b.size);
    expect(checkConsistency(a.note, b.note, proof, signer.verifier!).newer.size).toBe(11);

    // A fork: another database signed with the same key, same size, other entries.
    const h2 = makeHarness();
    const fork = createAuditLog({ store: await h2.open(), signer, origin, sanitizer, clock, checkpointIntervalMs: 0 });
    try {
      await fork.append(Array.from({ length: 11 }, () => inputEvent()));
      const f = await fork.checkpoint();
      const forkProof = await fork.consistencyProof(5, 11);
      expect(() => checkConsistency(a.note, f.note, forkProof, signer.verifier!)).toThrowError(
        expect.objectContaining({ code: 'ERR_MERKLE_PROOF_INVALID' }),
      );
      expect(() => checkConsistency(a.note, f.note, proof, signer.verifier!)).toThrowError(expect.objectContaining({ code: 'ERR_MERKLE_PROOF_INVALID' }));
    } finally {
      await fork.close();
      await h2.cleanup();
    }
  });

  it('refuses a stored checkpoint signed by another key', async () => {
    await log.append([inputEvent(), inputEvent()]);
    const forger = createNoteSigner(origin, generateKeyPair());
    const evil = createAuditLog({ store, signer: forger, origin, sanitizer, clock, checkpointIntervalMs: 0 });
    await evil.checkpoint(); // planted in the shared store
    await expect(log.latestCheckpoint()).rejects.toMatchObject({ code: 'ERR_CHECKPOINT_INVALID' });
    await expect(log.verify()).rejects.toMatchObject({ code: 'ERR_CHECKPOINT_INVALID' });
  });

  it('pages queries with opaque tokens bound to the filter', async () => {
    await log.append(Array.from({ length: 7 }, (_, i) => inputEvent({ workflow: i % 2 === 0 ? 'even' : 'odd', principal: 'user:vp@acme.example' })));
    const seen: number[] = [];
    let token = '';
    do {
      const page = await log.query({ workflow: 'even', principal: 'user:vp@acme.example' }, { pageSize: 2, ...(token ? { pageToken: token } : {}) });
      seen.push(...page.entries.map((e) => e.sequence));
      token = page.nextPageToken;
    } while (token);
    expect(seen).toEqual([1, 3, 5, 7]);
    const first = await log.query({ workflow: 'even' }, { pageSize: 2 });
    await expect(log.query({ workflow: 'odd' }, { pageToken: first.nextPageToken })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(log.query({}, { pageToken: 'garbage' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(log.query({}, { pageSize: 5000 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect((await log.query({ fromSequence: 6 })).entries.map((e) => e.sequence)).toEqual([6, 7]);
  });

  it('tails: catches up from a sequence, then follows new entries until aborted', async () => {
    await log.append([inputEvent({ task: 'x' }), inputEvent({ task: 'y' }), inputEvent({ task: 'x' })]);
    const ac = new AbortController();
    const got: AuditEntry[] = [];
    const done = (async () => {
      for await (const e of log.tail({ task: 'x', fromSequence: 1 }, { signal: ac.signal, pollMs: 50 })) {
        got.push(e);
        if (got.length === 3) ac.abort();
      }
    })();
    await new Promise((r) => setTimeout(r, 20));
    await log.append([inputEvent({ task: 'y' }), inputEvent({ task: 'x' })]);
    await done;
    expect(got.map((e) => e.sequence)).toEqual([1, 3, 5]);
  });

  it('signs checkpoints periodically while there are new entries', async () => {
    const timed = createAuditLog({ store, signer, origin, sanitizer, checkpointIntervalMs: 10 });
    try {
      await timed.append([inputEvent(), inputEvent(), inputEvent()]);
      for (let i = 0; i < 200 && (await store.latestCheckpoint())?.size !== 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect((await store.latestCheckpoint())?.size).toBe(3);
    } finally {
      await timed.close();
    }
  });

  it('refuses to sign a checkpoint that forks from the last one (log truncated and regrown)', async () => {
    await log.append(Array.from({ length: 4 }, () => inputEvent()));
    await log.checkpoint();
    await h.raw(
      h.name === 'sqlite'
        ? 'DROP TRIGGER audit_entries_no_delete; DELETE FROM audit_entries WHERE seq >= 3;'
        : 'DROP TRIGGER audit_entries_append_only ON audit_entries; DELETE FROM audit_entries WHERE seq >= 3;',
    );
    const fresh = createAuditLog({ store: await h.open(), signer, origin, sanitizer, clock, checkpointIntervalMs: 0 });
    try {
      await expect(fresh.checkpoint()).rejects.toMatchObject({ code: 'ERR_LOG_TAMPERED' });
      await fresh.append([inputEvent(), inputEvent(), inputEvent()]);
      await expect(fresh.checkpoint()).rejects.toMatchObject({ code: 'ERR_LOG_TAMPERED' });
      const report = await fresh.verify();
      expect(report.ok).toBe(false);
    } finally {
      await fresh.close().catch(() => undefined);
    }
  });

  it('rejects appends after close and oversized batches', async () => {
    await expect(log.append(Array.from({ length: 1001 }, () => inputEvent()))).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' });
    await log.close();
    await expect(log.append([{ ...inputEvent(), eventId: newEventId() }])).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
  });
});
