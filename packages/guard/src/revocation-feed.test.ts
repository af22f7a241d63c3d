import { BatonError, manualClock, type AccessTokenClaims, type ManualClock } from '@baton/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGuard } from './create-guard.js';
import { staticKeys } from './key-source.js';
import { createRevocationFeed, type RevocationFeed, type RevocationFeedOptions } from './revocation-feed.js';
import { AUDIENCE, HTU, ISSUER, fixture } from './testing/fixtures.js';
import { RevocationLevel as L, RevocationReason as R, entry, startIssuerStub, type IssuerStub } from './testing/issuer-stub.js';

const SUB = 'spiffe://baton.local/agent/orch-1/task-1/AAAAAAAAAAAAAAAAAAAAAA';
function claims(over: Partial<AccessTokenClaims> = {}): AccessTokenClaims {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'spiffe://baton.local/authority',
    sub: SUB,
    aud: ['payments'],
    exp: now + 300,
    iat: now - 5,
    nbf: now - 5,
    jti: 'jti-aaaaaaaaaaaaaaaaaaaa',
    scope: 'read:invoice',
    task_id: 'task-1',
    orch_id: 'orch-1',
    wf: 'invoices',
    principal: 'user:vp@acme.example',
    iid: 'AAAAAAAAAAAAAAAAAAAAAA',
    tdl: now + 3600,
    rnw: 0,
    cnf: { jkt: 'x'.repeat(43) },
    ...over,
  };
}
const jti = (n: number): string => `jti-${String(n).padStart(20, '0')}`;
const tokenCode = (feed: RevocationFeed, n: number) => feed.check(claims({ jti: jti(n) }));

let stub: IssuerStub;
let clock: ManualClock;
let feed: RevocationFeed | undefined;
const errors: unknown[] = [];

async function open(over: Partial<RevocationFeedOptions> = {}): Promise<RevocationFeed> {
  feed = createRevocationFeed({ client: stub.client, clock, minReconnectDelayMs: 5, maxReconnectDelayMs: 20, onError: (e) => errors.push(e), ...over });
  return feed;
}

beforeEach(async () => {
  stub = await startIssuerStub();
  clock = manualClock(Date.now());
  errors.length = 0;
});
afterEach(async () => {
  await feed?.close();
  feed = undefined;
  await stub.close();
});

describe('createRevocationFeed', () => {
  it('fails closed until the first snapshot, then applies it', async () => {
    const f = await open();
    expect(f.check(claims())).toBe('ERR_REVOCATION_STALE');
    expect(f.explain(claims())).toContain('not yet synchronised');
    const c = await stub.nextConnection();
    expect(c.from).toBe(0n);
    c.snapshot(
      [
        entry(1, L.TOKEN, jti(1)),
        entry(2, L.AGENT, SUB, { reason: R.RELEASED }),
        entry(4, L.WORKFLOW, 'payroll'),
      ],
      4n,
    );
    await f.ready(5_000);
    expect(f.sequence).toBe(4n);
    expect(f.size).toBe(3);
    expect(tokenCode(f, 1)).toBe('ERR_TOKEN_REVOKED');
    expect(f.check(claims())).toBe('ERR_TOKEN_RELEASED');
    expect(f.check(claims({ sub: SUB.replace('task-1', 'task-2') }))).toBeUndefined();
    expect(f.check(claims({ sub: SUB.replace('task-1', 'task-2'), wf: 'payroll' }))).toBe('ERR_TOKEN_REVOKED');
  });

  it('applies live entries as they arrive, including KEY and HOP levels', async () => {
    const f = await open();
    const c = await stub.nextConnection();
    c.snapshot([], 0n);
    await f.ready(5_000);
    expect(tokenCode(f, 7)).toBeUndefined();
    c.entry(entry(1, L.TOKEN, jti(7)));
    c.entry(entry(2, L.KEY, 'kid-old', { reason: R.KEY_COMPROMISE }));
    c.entry(entry(3, L.HOP, 'hop-hash-1'));
    await vi.waitFor(() => expect(f.sequence).toBe(3n));
    expect(tokenCode(f, 7)).toBe('ERR_TOKEN_REVOKED');
    expect(f.check(claims(), { kid: 'kid-old' })).toBe('ERR_TOKEN_KEY_REVOKED');
    expect(f.check(claims(), { kid: 'kid-new', hopHashes: ['hop-hash-0', 'hop-hash-1'] })).toBe('ERR_CHAIN_REVOKED');
    expect(f.explain(claims(), { kid: 'kid-old' })).toMatch(/key kid-old revoked \(key-compromise, sequence 2\)/);
  });

  it('resumes after a disconnect from the last applied sequence: no gap, no duplicate', async () => {
    const f = await open();
    const c1 = await stub.nextConnection();
    c1.snapshot([entry(1, L.TOKEN, jti(1)), entry(2, L.TOKEN, jti(2))], 2n);
    await f.ready(5_000);
    c1.entry(entry(3, L.TOKEN, jti(3)));
    await vi.waitFor(() => expect(f.sequence).toBe(3n));
    c1.end(); // server drops the stream

    const c2 = await stub.nextConnection();
    expect(c2.from).toBe(3n);
    // The server sends only what came after, in a (non-reset) snapshot, then live.
    c2.snapshot([entry(4, L.TOKEN, jti(4))], 4n);
    c2.entry(entry(5, L.TOKEN, jti(5)));
    await vi.waitFor(() => expect(f.sequence).toBe(5n));
    expect([1, 2, 3, 4, 5].map((n) => tokenCode(f, n))).toEqual(Array(5).fill('ERR_TOKEN_REVOKED'));
    expect(f.size).toBe(5);

    c2.fail(new BatonError('ERR_UNAVAILABLE', 'issuer restarting'));
    const c3 = await stub.nextConnection();
    expect(c3.from).toBe(5n);
    expect(errors.length).toBeGreaterThan(0);
  });

  it('handles reordered and replayed entries: applied once, sequence advances only without gaps', async () => {
    const f = await open();
    const c = await stub.nextConnection();
    c.snapshot([entry(1, L.TOKEN, jti(1))], 1n);
    await f.ready(5_000);

    c.entry(entry(3, L.TOKEN, jti(3))); // 2 is late
    await vi.waitFor(() => expect(tokenCode(f, 3)).toBe('ERR_TOKEN_REVOKED'));
    expect(f.sequence).toBe(1n); // a reconnect now would resume from 1 and get 2 again
    c.entry(entry(2, L.TOKEN, jti(2)));
    await vi.waitFor(() => expect(f.sequence).toBe(3n));
    // Replays: same entries again change nothing.
    c.entry(entry(2, L.TOKEN, jti(2)));
    c.entry(entry(1, L.TOKEN, jti(1)));
    // A replay of an entry whose coverage has expired is not resurrected.
    const past = BigInt(Math.floor(clock.now() / 1000) - 10);
    c.entry(entry(1, L.TOKEN, jti(1), { expiresAt: past }));
    c.keepAlive(3n);
    await vi.waitFor(() => expect(f.stalenessMs()).toBe(0));
    expect(f.size).toBe(3);
    expect(f.sequence).toBe(3n);
    expect([1, 2, 3].map((n) => tokenCode(f, n))).toEqual(Array(3).fill('ERR_TOKEN_REVOKED'));

    // A reordered entry followed by a disconnect: the resume point is before the gap.
    c.entry(entry(5, L.TOKEN, jti(5)));
    await vi.waitFor(() => expect(tokenCode(f, 5)).toBe('ERR_TOKEN_REVOKED'));
    c.end();
    const c2 = await stub.nextConnection();
    expect(c2.from).toBe(3n);
  });

  it('takes a reset snapshot as the whole state after the server pruned past the resume point', async () => {
    const f = await open();
    const c1 = await stub.nextConnection();
    c1.snapshot([entry(1, L.TOKEN, jti(1)), entry(2, L.TOKEN, jti(2))], 2n);
    await f.ready(5_000);
    c1.end();

    const c2 = await stub.nextConnection();
    expect(c2.from).toBe(2n);
    // While the guard was away: 3..8 written, 1, 2, 3, 5, 6, 8 pruned. 4 and 7 (never seen) are live.
    c2.send({ case: 'snapshotBegin', value: { reset: true, sequence: 9n } });
    c2.entry(entry(4, L.TOKEN, jti(4)));
    // Until the reset snapshot is complete the old view keeps serving. (An empty event is
    // reported as an error: once it is, everything sent before it has been processed.)
    c2.send({ case: undefined });
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(tokenCode(f, 1)).toBe('ERR_TOKEN_REVOKED');
    expect(tokenCode(f, 4)).toBeUndefined();
    c2.entry(entry(7, L.TASK, 'orch-1/task-1'));
    c2.entry(entry(9, L.TOKEN, jti(9)));
    c2.send({ case: 'snapshotEnd', value: { reset: true, sequence: 9n } });
    await vi.waitFor(() => expect(f.sequence).toBe(9n));
    expect(f.size).toBe(3);
    expect(tokenCode(f, 4)).toBe('ERR_TOKEN_REVOKED');
    expect(f.check(claims({ jti: jti(100) }))).toBe('ERR_TOKEN_REVOKED'); // task-level entry 7
    expect(f.check(claims({ jti: jti(100), task_id: 'task-2' }))).toBeUndefined();
    // Entries the reset snapshot no longer holds are gone from the view.
    expect(f.check(claims({ jti: jti(1), task_id: 'task-2' }))).toBeUndefined();
    expect(f.check(claims({ jti: jti(9), task_id: 'task-2' }))).toBe('ERR_TOKEN_REVOKED');
  });

  it('discards an interrupted reset snapshot and keeps the old view', async () => {
    const f = await open();
    const c1 = await stub.nextConnection();
    c1.snapshot([entry(1, L.TOKEN, jti(1))], 1n);
    await f.ready(5_000);
    c1.end();
    const c2 = await stub.nextConnection();
    c2.send({ case: 'snapshotBegin', value: { reset: true, sequence: 5n } });
    c2.entry(entry(5, L.TOKEN, jti(5)));
    c2.end(); // dropped mid-snapshot
    const c3 = await stub.nextConnection();
    expect(c3.from).toBe(1n);
    expect(f.sequence).toBe(1n);
    expect(tokenCode(f, 1)).toBe('ERR_TOKEN_REVOKED');
    expect(tokenCode(f, 5)).toBeUndefined();
  });

  it('fails closed past maxStalenessMs and recovers on the next keep-alive or entry', async () => {
    const f = await open({ maxStalenessMs: 30_000, idleTimeoutMs: 3_600_000 });
    const c = await stub.nextConnection();
    c.snapshot([], 0n);
    await f.ready(5_000);
    clock.advance(30_000);
    expect(f.check(claims())).toBeUndefined();
    clock.advance(1);
    expect(f.check(claims())).toBe('ERR_REVOCATION_STALE');
    expect(f.explain(claims())).toMatch(/stale: last update 30001 ms ago/);
    c.keepAlive(0n);
    await vi.waitFor(() => expect(f.check(claims())).toBeUndefined());
    clock.advance(31_000);
    expect(f.check(claims())).toBe('ERR_REVOCATION_STALE');
    c.entry(entry(1, L.TOKEN, jti(1)));
    await vi.waitFor(() => expect(f.check(claims())).toBeUndefined());
    expect(tokenCode(f, 1)).toBe('ERR_TOKEN_REVOKED');
  });

  it('a keep-alive during a snapshot does not count as fresh', async () => {
    const f = await open();
    const c = await stub.nextConnection();
    c.send({ case: 'snapshotBegin', value: { reset: false, sequence: 3n } });
    c.keepAlive(3n);
    c.entry(entry(1, L.TOKEN, jti(1)));
    c.send({ case: undefined });
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expect(f.size).toBe(1);
    expect(f.check(claims())).toBe('ERR_REVOCATION_STALE');
    expect(f.sequence).toBe(0n);
  });

  it('reconnects a silent stream after idleTimeoutMs', async () => {
    const f = await open({ idleTimeoutMs: 200 });
    const c1 = await stub.nextConnection();
    c1.snapshot([entry(1, L.TOKEN, jti(1))], 1n);
    await f.ready(5_000);
    clock.advance(250);
    const c2 = await stub.nextConnection();
    expect(c2.from).toBe(1n);
    await vi.waitFor(() => expect(c1.cancelled).toBe(true));
  });

  it('fails closed when the state outgrows maxEntries', async () => {
    const f = await open({ maxEntries: 2 });
    const c = await stub.nextConnection();
    c.snapshot([entry(1, L.TOKEN, jti(1)), entry(2, L.TOKEN, jti(2))], 2n);
    await f.ready(5_000);
    expect(tokenCode(f, 3)).toBeUndefined();
    c.entry(entry(3, L.TOKEN, jti(3)));
    await vi.waitFor(() => expect(tokenCode(f, 9)).toBe('ERR_REVOCATION_STALE'));
  });

  it('skips and reports malformed entries', async () => {
    const f = await open();
    const c = await stub.nextConnection();
    c.snapshot([entry(1, L.UNSPECIFIED, 'x'), entry(2, L.TOKEN, ''), entry(3, L.TOKEN, jti(3))], 3n);
    await f.ready(5_000);
    expect(f.size).toBe(1);
    expect(f.sequence).toBe(3n);
    expect(errors.length).toBe(2);
  });

  it('close() ends the stream, rejects a pending ready() and the view then goes stale', async () => {
    const f = await open();
    const c = await stub.nextConnection();
    const ready = f.ready();
    await f.close();
    await expect(ready).rejects.toThrow();
    await vi.waitFor(() => expect(c.cancelled).toBe(true));
    expect(f.check(claims())).toBe('ERR_REVOCATION_STALE');
    await f.close(); // idempotent
  });
});

describe('createRevocationFeed as the guard revocation view', () => {
  it('denies revoked and released tokens with the entry in the reason, and fails closed when stale', async () => {
    const fx = fixture();
    fx.clock.set(clock.now());
    const f = await open({ clock: fx.clock, idleTimeoutMs: 3_600_000 });
    const guard = createGuard({ audience: AUDIENCE, issuer: ISSUER, keys: staticKeys(new Map([[fx.kid, fx.issuerKey.publicKey]])), clock: fx.clock, revocation: f });
    const check = async (token: string) => guard.check({ token, proof: fx.prove(token), htm: 'POST', htu: HTU, request: { action: 'read', resource: 'invoice' } });

    const token = fx.mint();
    expect(await check(token)).toMatchObject({ allow: false, code: 'ERR_REVOCATION_STALE' });
    const c = await stub.nextConnection();
    c.snapshot([], 0n);
    await f.ready(5_000);
    expect(await check(token)).toMatchObject({ allow: true });

    const sub = fx.claims().sub as string;
    c.entry(entry(1, L.AGENT, sub, { reason: R.RELEASED }));
    await vi.waitFor(() => expect(f.sequence).toBe(1n));
    expect(await check(token)).toEqual({ allow: false, code: 'ERR_TOKEN_RELEASED', reason: `agent ${sub} revoked (released, sequence 1)` });
    c.entry(entry(2, L.KEY, fx.kid, { reason: R.KEY_COMPROMISE }));
    await vi.waitFor(() => expect(f.sequence).toBe(2n));
    expect(await check(fx.mint())).toMatchObject({ allow: false, code: 'ERR_TOKEN_KEY_REVOKED' });

    fx.clock.advance(30_001);
    const d = await check(fx.mint({}, {}));
    expect(d).toMatchObject({ allow: false, code: 'ERR_REVOCATION_STALE' });
  });
});
