import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { randomBytes, randomId } from '@baton/core';
import { IssuerService, RevocationLevel as L, RevocationReason as R, RevokeRequestSchema, RotateKeysRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase } from '@baton/store';
import { postgresRevocationNotifier, type PostgresRevocationNotifier } from './postgres-notifier.js';
import type { RevocationRecord } from './revocation-model.js';
import { openStoreKeyRing, type StoreKeyRing } from './store-key-ring.js';
import { openStore, PG_URL, startHarness, type Harness } from './testing/harness.js';

// Two issuer replicas on one PostgreSQL schema, each with its own pool, server, store
// key ring and LISTEN/NOTIFY notifier. Keep-alives are an hour apart, so whatever reaches
// the other replica's subscribers came through NOTIFY.
describe('replicas fanning revocations out through PostgreSQL LISTEN/NOTIFY', () => {
  const channel = `baton_rev_test_${randomId(8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`;
  let a: Harness;
  let b: Harness;
  let notifierA: PostgresRevocationNotifier;
  let notifierB: PostgresRevocationNotifier;
  let ringA: StoreKeyRing;
  let ringB: StoreKeyRing;

  beforeAll(async () => {
    const kek = randomBytes(32);
    const first = await openStore('postgres', 'notify');
    const second = await openDatabase(PG_URL, { schema: first.schema! });
    notifierA = postgresRevocationNotifier({ url: PG_URL, db: first.db, channel, minReconnectDelayMs: 400, maxReconnectDelayMs: 800 });
    notifierB = postgresRevocationNotifier({ url: PG_URL, db: second, channel });
    await Promise.all([notifierA.ready(), notifierB.ready()]);
    ringA = await openStoreKeyRing(first.db, { kek, refreshIntervalMs: 0 });
    ringB = await openStoreKeyRing(second, { kek, refreshIntervalMs: 0 });
    const common = { keepAliveMs: 3_600_000 } as const;
    a = await startHarness('postgres', 'notify', { ...common, store: first, notifier: notifierA, keyRing: ringA });
    b = await startHarness('postgres', 'notify', { ...common, store: { db: second, cleanup: () => second.close() }, notifier: notifierB, keyRing: ringB });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
    await notifierA?.close();
    await notifierB?.close();
    await ringA?.close();
    await ringB?.close();
  });

  const revokeOn = async (h: Harness, target: string) => {
    const req: MessageInitShape<typeof RevokeRequestSchema> = { level: L.WORKFLOW, target, reason: R.MANUAL };
    return (await h.client.revoke(req, { metadata: h.keyProof(h.operator, IssuerService.method.revoke, RevokeRequestSchema, req) })).sequence;
  };
  /** Streams WatchRevocations from `h` into `seen` until stopped. */
  const watch = async (h: Harness) => {
    const ac = new AbortController();
    const seen: bigint[] = [];
    let synced = false;
    const done = (async () => {
      try {
        for await (const m of h.client.watchRevocations({ fromSequence: 0n }, { signal: ac.signal })) {
          if (m.event.case === 'entry') seen.push(m.event.value.sequence);
          if (m.event.case === 'snapshotEnd') synced = true;
        }
      } catch {
        // cancelled
      }
    })();
    await vi.waitFor(() => expect(synced).toBe(true));
    return {
      seen,
      async stop() {
        ac.abort();
        await done;
      },
    };
  };

  it('a revocation on one replica reaches subscribers of the other at once, in order, without duplicates', async () => {
    const w = await watch(a);
    const s1 = await revokeOn(b, 'wf-one');
    const s2 = await revokeOn(b, 'wf-two');
    const s3 = await revokeOn(a, 'wf-three');
    await vi.waitFor(() => expect(w.seen.slice(-3)).toEqual([s1, s2, s3]), { timeout: 5_000 });
    expect(new Set(w.seen).size).toBe(w.seen.length);
    await w.stop();
  });

  it('an emergency rotation on one replica switches the other replica’s signing key through the feed', async () => {
    const old = ringB.activeKid;
    const res = await a.client.rotateKeys({ emergency: true }, { metadata: a.keyProof(a.operator, IssuerService.method.rotateKeys, RotateKeysRequestSchema, { emergency: true }) });
    expect(res.retiredKid).toBe(old);
    await vi.waitFor(() => expect(ringB.activeKid).toBe(res.newKid), { timeout: 5_000 });
    expect(ringB.status(old)).toBe('revoked');
    const keys = await b.client.getKeys({});
    expect(keys.revokedKids).toContain(old);
    const t = await b.issue(b.newAgent());
    expect(JSON.parse(Buffer.from(t.accessToken.split('.')[0]!, 'base64url').toString('utf8')).kid).toBe(res.newKid);
  });

  it('treats notifications as hints: forged, foreign and malformed ones deliver nothing', async () => {
    const got: RevocationRecord[] = [];
    const off = notifierA.subscribe((e) => got.push(e));
    try {
      for (const payload of ['{"o":"elsewhere","s":987654321}', 'not json', '{"o":"x","s":-1}', '{"o":"x","s":"7"}', '{"s":1.5}']) {
        await b.db.get('SELECT pg_notify(?, ?)', [channel, payload]);
      }
      const real = await revokeOn(b, 'wf-after-noise');
      await vi.waitFor(() => expect(got.map((e) => e.seq)).toContain(Number(real)), { timeout: 5_000 });
      expect(got.every((e) => e.seq <= Number(real))).toBe(true);
      expect(got.find((e) => e.seq === Number(real))).toMatchObject({ level: 'workflow', target: 'wf-after-noise' });
    } finally {
      off();
    }
  });

  it('after a scheduled rotation on one replica, the other answers GetKeys, Introspect and Renew with the new key at once', async () => {
    // No KEY entry and no refresh timer: each path must reload the shared ring itself.
    const rotate = () => a.client.rotateKeys({ emergency: false }, { metadata: a.keyProof(a.operator, IssuerService.method.rotateKeys, RotateKeysRequestSchema, { emergency: false }) });
    const kidOf = (token: string) => (JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as { kid: string }).kid;

    const r1 = await rotate();
    expect(ringB.activeKid).toBe(r1.retiredKid);
    const jwks = JSON.parse((await b.client.getKeys({})).jwks) as { keys: { kid: string }[] };
    expect(jwks.keys[0]!.kid).toBe(r1.newKid);

    const r2 = await rotate();
    const t2 = await a.issue(a.newAgent());
    expect(kidOf(t2.accessToken)).toBe(r2.newKid);
    expect(ringB.activeKid).toBe(r1.newKid);
    expect((await b.client.introspect({ token: t2.accessToken })).active).toBe(true);

    const r3 = await rotate();
    const agent = a.newAgent();
    const t3 = await a.issue(agent);
    expect(ringB.activeKid).toBe(r2.newKid);
    const renewed = await b.client.renew({}, { metadata: b.dpop(agent, t3.accessToken, IssuerService.method.renew) });
    expect(kidOf(renewed.accessToken)).toBe(r3.newKid);
  });

  it('re-reads what it missed after its LISTEN connection dropped', async () => {
    const w = await watch(a);
    await a.db.get('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = ? AND pid <> pg_backend_pid()', [`LISTEN ${channel}`]);
    await vi.waitFor(() => expect(notifierA.connected).toBe(false), { timeout: 5_000 });
    const missed = await revokeOn(b, 'wf-while-away');
    await vi.waitFor(() => expect(w.seen).toContain(missed), { timeout: 10_000 });
    expect(notifierA.connected).toBe(true);
    await w.stop();
  });
});
