import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  IssuerService,
  RevocationLevel as L,
  RevocationReason as R,
  RevokeRequestSchema,
  type WatchRevocationsResponse,
} from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { isBatonError, systemClock } from '@baton/core';
import { localRevocationNotifier, type RevocationNotifier } from './revocation-notifier.js';
import { appendRevocation, type NewRevocation } from './revocation-repo.js';
import { watchRevocations, type WatchEvent } from './revocation-watch.js';
import { startHarness, STORES, type Harness } from './testing/harness.js';

/** A local notifier that counts live subscriptions. */
function countingNotifier(): RevocationNotifier & { readonly subscribers: number } {
  const inner = localRevocationNotifier();
  let subscribers = 0;
  return {
    publish: (e) => inner.publish(e),
    subscribe(listener) {
      subscribers++;
      const off = inner.subscribe(listener);
      let done = false;
      return () => {
        if (!done) subscribers--;
        done = true;
        off();
      };
    },
    close: () => inner.close(),
    get subscribers() {
      return subscribers;
    },
  };
}

type Msg = WatchRevocationsResponse['event'];

/** Reads a stream in the background into `events`; `stop()` cancels it. */
function subscribe(h: Harness, fromSequence: bigint) {
  const ac = new AbortController();
  const events: Msg[] = [];
  const done = (async () => {
    try {
      for await (const m of h.client.watchRevocations({ fromSequence }, { signal: ac.signal })) events.push(m.event);
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    }
  })();
  return {
    events,
    entries: () => events.filter((e) => e.case === 'entry').map((e) => e.value.sequence),
    async stop() {
      ac.abort();
      await done;
    },
  };
}

describe.each(STORES)('WatchRevocations over gRPC (%s)', (kind) => {
  let h: Harness;
  let notifier: ReturnType<typeof countingNotifier>;
  beforeAll(async () => {
    notifier = countingNotifier();
    h = await startHarness(kind, 'watch', { keepAliveMs: 50, notifier });
  });
  afterAll(async () => h?.close());

  const revokeAgent = async (reason = R.MANUAL) => {
    const a = h.newAgent();
    await h.issue(a, { requestedTtlSeconds: 60 });
    const req: MessageInitShape<typeof RevokeRequestSchema> = { level: L.AGENT, target: a.sub, reason };
    return (await h.client.revoke(req, { metadata: h.keyProof(h.operator, IssuerService.method.revoke, RevokeRequestSchema, req) })).sequence;
  };

  it('sends a snapshot between markers, then live entries, then keep-alives with the newest sequence', async () => {
    const s1 = await revokeAgent();
    const s2 = await revokeAgent();
    const sub = subscribe(h, 0n);
    await vi.waitFor(() => expect(sub.events.some((e) => e.case === 'snapshotEnd')).toBe(true));
    expect(sub.events.slice(0, 4)).toEqual([
      { case: 'snapshotBegin', value: expect.objectContaining({ reset: false, sequence: s2 }) },
      { case: 'entry', value: expect.objectContaining({ sequence: s1, level: L.AGENT, reason: R.MANUAL }) },
      { case: 'entry', value: expect.objectContaining({ sequence: s2 }) },
      { case: 'snapshotEnd', value: expect.objectContaining({ reset: false, sequence: s2 }) },
    ]);
    const s3 = await revokeAgent(R.ANOMALY);
    await vi.waitFor(() => expect(sub.entries()).toEqual([s1, s2, s3]));
    await vi.waitFor(() => expect(sub.events.some((e) => e.case === 'keepAlive' && e.value.sequence === s3)).toBe(true));
    const ka = sub.events.find((e) => e.case === 'keepAlive');
    expect(ka?.case === 'keepAlive' && ka.value.serverTime).toBe(BigInt(Math.floor(h.clock.now() / 1000)));
    await sub.stop();
  });

  it('keeps live entries gap-free and unique under concurrent revocations', async () => {
    const sub = subscribe(h, 0n);
    await vi.waitFor(() => expect(sub.events.some((e) => e.case === 'snapshotEnd')).toBe(true));
    const seqs = await Promise.all(Array.from({ length: 20 }, () => revokeAgent()));
    const top = seqs.reduce((a, b) => (a > b ? a : b));
    await vi.waitFor(() => expect(sub.entries().at(-1)).toBe(top));
    const got = sub.entries();
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => 1n + BigInt(i)));
    expect(new Set(seqs).size).toBe(20);
    await sub.stop();
  });

  it('resumes after a disconnect with no gap and no duplicate', async () => {
    const sub = subscribe(h, 0n);
    await vi.waitFor(() => expect(sub.events.some((e) => e.case === 'snapshotEnd')).toBe(true));
    const seen = sub.entries();
    await sub.stop();
    const missed = [await revokeAgent(), await revokeAgent(), await revokeAgent()];
    const last = seen.at(-1)!;
    const again = subscribe(h, last);
    await vi.waitFor(() => expect(again.events.some((e) => e.case === 'snapshotEnd')).toBe(true));
    expect(again.events[0]).toEqual({ case: 'snapshotBegin', value: expect.objectContaining({ reset: false, sequence: missed[2] }) });
    expect(again.entries()).toEqual(missed);
    const live = await revokeAgent();
    await vi.waitFor(() => expect(again.entries()).toEqual([...missed, live]));
    await again.stop();
  });

  it('answers a resume point below pruned entries with a reset snapshot of what is live', async () => {
    const before = await revokeAgent();
    h.clock.advance(200_000); // everything so far expired (60 s tokens + leeway)
    const p = await h.issuer.prune();
    expect(p.revocations).toBeGreaterThan(0);
    const alive = await revokeAgent();
    const sub = subscribe(h, before - 1n);
    await vi.waitFor(() => expect(sub.events.some((e) => e.case === 'snapshotEnd')).toBe(true));
    expect(sub.events[0]).toEqual({ case: 'snapshotBegin', value: expect.objectContaining({ reset: true, sequence: alive }) });
    expect(sub.entries()).toEqual([alive]);
    await sub.stop();
    // A resume point ahead of this store (another history) also resets.
    const ahead = subscribe(h, alive + 1000n);
    await vi.waitFor(() => expect(ahead.events.some((e) => e.case === 'snapshotEnd')).toBe(true));
    expect(ahead.events[0]).toMatchObject({ case: 'snapshotBegin', value: { reset: true } });
    expect(ahead.entries()).toEqual([alive]);
    await ahead.stop();
  });

  it('releases the subscription when the client cancels', async () => {
    await vi.waitFor(() => expect(notifier.subscribers).toBe(0));
    const sub = subscribe(h, 0n);
    await vi.waitFor(() => expect(notifier.subscribers).toBe(1));
    await sub.stop();
    await vi.waitFor(() => expect(notifier.subscribers).toBe(0));
  });

  it('drops a subscriber that falls too far behind instead of buffering without bound', async () => {
    const local = countingNotifier();
    const ac = new AbortController();
    const gen = watchRevocations({ db: h.db, notifier: local, clock: systemClock, keepAliveMs: 60_000, bufferLimit: 5 }, 0, ac.signal);
    let ev: IteratorResult<WatchEvent>;
    do ev = await gen.next();
    while (!ev.done && ev.value.kind !== 'snapshotEnd');
    expect(local.subscribers).toBe(1);
    // The consumer stops pulling while 6 entries arrive.
    const entry = { level: 'agent', target: 'x', reason: 'manual', createdAt: 0, expiresAt: 0, notAfterIat: 0, actor: 't' } as const;
    for (let i = 0; i < 6; i++) local.publish({ ...entry, seq: 1_000_000 + i });
    expect(local.subscribers).toBe(0);
    const err = await gen.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isBatonError(err) && err.code).toBe('ERR_UNAVAILABLE');
    ac.abort();
  });

  it('fills a gap from the store when entries arrive out of order, and drops repeats', async () => {
    const local = countingNotifier();
    const ac = new AbortController();
    const gen = watchRevocations({ db: h.db, notifier: local, clock: systemClock, keepAliveMs: 60_000, bufferLimit: 100 }, 0, ac.signal);
    let ev: IteratorResult<WatchEvent>;
    do ev = await gen.next();
    while (!ev.done && ev.value.kind !== 'snapshotEnd');
    const now = Math.floor(h.clock.now() / 1000);
    const spec: NewRevocation = { level: 'workflow', target: 'gap', reason: 'manual', createdAt: now, expiresAt: now + 100, notAfterIat: now, actor: 'test' };
    const [a, b] = await h.db.transaction(async (tx) => [await appendRevocation(tx, spec), await appendRevocation(tx, spec)]);
    local.publish(b!); // the later one first
    local.publish(a!); // then a repeat of what the gap fill already delivered
    local.publish(b!);
    const next = async () => ((await gen.next()).value as WatchEvent & { kind: 'entry' }).entry.seq;
    expect(await next()).toBe(a!.seq);
    expect(await next()).toBe(b!.seq);
    const after = await h.db.transaction(async (tx) => appendRevocation(tx, spec));
    local.publish(after);
    expect(await next()).toBe(after.seq);
    ac.abort();
    await gen.return(undefined);
  });
});
