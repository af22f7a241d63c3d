import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { createChallengeStore, nonceHash } from './challenges.js';
import { launchTokenHash } from './launch-token-format.js';
import { consumeLaunchToken } from './launch-tokens.js';
import { STORES, codeOf, startWithWorkflow, type Harness } from './testing/harness.js';

describe.each(STORES)('single use under concurrency and re-registration (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWithWorkflow(kind, 'race');
  });
  afterAll(async () => {
    await h.close();
  });

  it('lets exactly one of 50 concurrent registrations with one launch token succeed', async () => {
    const lt = await h.launchToken({ taskId: 'task-race' });
    // Each attempt has its own key and nonce: only the launch token is shared.
    const requests = await Promise.all(Array.from({ length: 50 }, () => h.registerRequest(lt)));
    const before = h.counts.replays;
    const results = await Promise.allSettled(requests.map(({ req }) => h.client.register(req)));

    const ok = results.filter((r) => r.status === 'fulfilled');
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as { code?: string }).code] : []));
    expect(ok).toHaveLength(1);
    expect(codes).toHaveLength(49);
    expect(new Set(codes)).toEqual(new Set(['ERR_LAUNCH_TOKEN_REPLAYED']));
    expect(h.counts.replays - before).toBe(49);
    const rows = await h.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM identity_agents WHERE task_id = 'task-race'");
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('consumes a launch token and a nonce by atomic statements that only one caller wins', async () => {
    const lt = await h.launchToken({ taskId: 'task-atomic' });
    const hash = launchTokenHash(lt);
    const now = h.clock.now();
    // Bypass every pre-check: only the UPDATE … WHERE used_at IS NULL stands between the callers.
    const wins = await Promise.all(Array.from({ length: 50 }, () => consumeLaunchToken(h.db, hash, now)));
    expect(wins.filter(Boolean)).toHaveLength(1);
    const nonce = await h.nonce();
    const store = createChallengeStore(h.db, h.clock, { ttlSeconds: 30, maxOutstanding: 10 });
    const nonceWins = await Promise.all(Array.from({ length: 50 }, () => store.consume(h.db, nonceHash(nonce), now)));
    expect(nonceWins.filter(Boolean)).toHaveLength(1);
  });

  it('registers 20 agents with 20 launch tokens concurrently', async () => {
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => h.launchToken({ taskId: `task-many-${i}` })));
    const requests = await Promise.all(tokens.map((lt) => h.registerRequest(lt)));
    const results = await Promise.allSettled(requests.map(({ req }) => h.client.register(req)));
    expect(results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code?: string }).code))).toEqual(Array(20).fill('ok'));
  });

  it('supersedes the previous instance of the same task and name and revokes its tokens', async () => {
    h.audit.length = 0;
    const first = await h.register(await h.launchToken({ taskId: 'task-crash' }), { over: { name: 'worker' } });
    expect((await h.issuerClient.introspect({ token: first.accessToken })).active).toBe(true);

    const second = await h.register(await h.launchToken({ taskId: 'task-crash' }), { over: { name: 'worker' } });
    expect(second.supersededSpiffeId).toBe(first.spiffeId);
    expect(second.instanceId).not.toBe(first.instanceId);

    const old = await h.issuerClient.introspect({ token: first.accessToken });
    expect(old).toMatchObject({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED' });
    expect((await h.issuerClient.introspect({ token: second.accessToken })).active).toBe(true);

    expect(h.audit.find((r) => r.type === 'agent.superseded')).toMatchObject({ agent: first.spiffeId, outcome: 'info' });
    const revoked = h.audit.find((r) => r.type === 'token.revoked');
    expect(revoked).toBeDefined();
    // Identity itself refuses the superseded instance even where a guard has no revocation feed.
    const code = await codeOf(h.client.heartbeat({ state: 1 }, { metadata: h.dpop(first.key, first.accessToken, IdentityService.method.heartbeat) }));
    expect(code).toBe('ERR_AGENT_SUPERSEDED');
    const pending = await h.db.get<{ revoke_pending: number }>('SELECT revoke_pending FROM identity_agents WHERE spiffe_id = ?', [first.spiffeId]);
    expect(Number(pending!.revoke_pending)).toBe(0);
  });

  it('marks the instance failed when the issuer cannot issue, so it never counts as live', async () => {
    h.faults.issue = 1;
    expect(await codeOf(h.register(await h.launchToken({ taskId: 'task-noissue' }), { over: { name: 'solo' } }))).toBe('ERR_UNAVAILABLE');
    const row = await h.db.get<{ status: string }>("SELECT status FROM identity_agents WHERE task_id = 'task-noissue'");
    expect(row?.status).toBe('failed');
    // A retry with a new launch token supersedes nothing (the failed instance held no token).
    const again = await h.register(await h.launchToken({ taskId: 'task-noissue' }), { over: { name: 'solo' } });
    expect(again.supersededSpiffeId).toBe('');
  });

  it('does not supersede an agent with another name, or in another task', async () => {
    const a = await h.register(await h.launchToken({ taskId: 'task-team' }), { over: { name: 'manager' } });
    const b = await h.register(await h.launchToken({ taskId: 'task-team' }), { over: { name: 'intern' } });
    const c = await h.register(await h.launchToken({ taskId: 'task-other' }), { over: { name: 'manager' } });
    expect([b.supersededSpiffeId, c.supersededSpiffeId]).toEqual(['', '']);
    expect((await h.issuerClient.introspect({ token: a.accessToken })).active).toBe(true);
  });

  it('fails closed when the issuer refuses the revocation, and the sweeper retries it', async () => {
    const first = await h.register(await h.launchToken({ taskId: 'task-flaky' }));
    h.faults.revoke = 1;
    expect(await codeOf(h.register(await h.launchToken({ taskId: 'task-flaky' })))).toBe('ERR_UNAVAILABLE');
    expect((await h.issuerClient.introspect({ token: first.accessToken })).active).toBe(true);
    const swept = await h.identity.sweep();
    expect(swept.revoked).toBe(1);
    expect(await h.issuerClient.introspect({ token: first.accessToken })).toMatchObject({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED' });
  });
});
