import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@baton/core';
import { IdentityService, TaskState } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { STORES, codeOf, startHarness, type Harness } from './testing/harness.js';

describe.each(STORES)('heartbeats (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, 'hb');
    await h.createWorkflow('watch', { heartbeat: { intervalSeconds: 30, missesBeforeFlag: 3, revokeOnFlag: false } });
    await h.createWorkflow('strict', { heartbeat: { intervalSeconds: 10, missesBeforeFlag: 2, revokeOnFlag: true } });
    await h.addOrchestrator('orch-1', ['watch', 'strict']);
  });
  afterAll(async () => {
    await h.close();
  });

  const beat = (a: { key: ReturnType<typeof generateKeyPair>; accessToken: string }, state: number = TaskState.ACTIVE) =>
    h.client.heartbeat({ state }, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.heartbeat) });

  it('records heartbeats and flags an agent only after 3 missed intervals', async () => {
    const a = await h.register(await h.launchToken({ workflowId: 'watch', taskId: 'task-quiet' }));
    h.clock.advance(20_000);
    expect((await beat(a, TaskState.IDLE)).nextIntervalSeconds).toBe(30);
    const row = await h.db.get<{ task_state: number; last_seen_at: number }>('SELECT task_state, last_seen_at FROM identity_agents WHERE spiffe_id = ?', [a.spiffeId]);
    expect(Number(row!.task_state)).toBe(TaskState.IDLE);
    expect(Number(row!.last_seen_at)).toBe(h.clock.now());

    h.clock.advance(90_000); // exactly 3 intervals: not yet
    expect((await h.identity.sweep()).flagged).toBe(0);

    h.audit.length = 0;
    const misses = h.counts.misses;
    h.clock.advance(1_000);
    expect((await h.identity.sweep()).flagged).toBe(1);
    expect(h.counts.misses - misses).toBe(3);
    expect(h.audit.find((r) => r.type === 'heartbeat.missed')).toMatchObject({ agent: a.spiffeId, outcome: 'info', task: 'task-quiet' });
    // Reported once, not on every sweep.
    expect((await h.identity.sweep()).flagged).toBe(0);
    // Not revoked by this workflow's policy; a heartbeat makes it live again.
    expect((await h.issuerClient.introspect({ token: a.accessToken })).active).toBe(true);
    await beat(a);
    const after = await h.db.get<{ status: string }>('SELECT status FROM identity_agents WHERE spiffe_id = ?', [a.spiffeId]);
    expect(after!.status).toBe('active');
  });

  it('revokes a flagged agent automatically when the policy says so', async () => {
    const a = await h.register(await h.launchToken({ workflowId: 'strict', taskId: 'task-strict' }));
    expect(a.heartbeatIntervalSeconds).toBe(10);
    h.clock.advance(21_000);
    h.audit.length = 0;
    const swept = await h.identity.sweep();
    expect(swept).toMatchObject({ flagged: 1, revoked: 1 });
    expect(h.audit.find((r) => r.type === 'heartbeat.missed')).toMatchObject({ agent: a.spiffeId, outcome: 'deny' });
    expect(await h.issuerClient.introspect({ token: a.accessToken })).toMatchObject({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED' });
    expect(await codeOf(beat(a))).toBe('ERR_TOKEN_REVOKED');
  });

  it('ignores agents whose task deadline has passed', async () => {
    const a = await h.register(await h.launchToken({ workflowId: 'watch', taskId: 'task-short', taskTtlSeconds: 60 }));
    h.clock.advance(200_000);
    await h.identity.sweep();
    const row = await h.db.get<{ status: string }>('SELECT status FROM identity_agents WHERE spiffe_id = ?', [a.spiffeId]);
    expect(row!.status).toBe('active');
  });

  it.each([
    ['no credentials', () => ({}), 'ERR_TOKEN_MISSING'],
    ['a token without a proof', (t: string) => ({ authorization: `DPoP ${t}` }), 'ERR_PROOF_MISSING'],
    ['a proof by another key', (t: string) => h.dpop(generateKeyPair(), t, IdentityService.method.heartbeat), 'ERR_PROOF_KEY_MISMATCH'],
    ['a proof for another method', (t: string, k: ReturnType<typeof generateKeyPair>) => h.dpop(k, t, IdentityService.method.publish), 'ERR_PROOF_METHOD_MISMATCH'],
  ])('refuses a heartbeat with %s', async (_n, md, expected) => {
    const a = await h.register(await h.launchToken({ workflowId: 'watch', taskId: 'task-auth' }));
    const code = await codeOf(h.client.heartbeat({ state: 1 }, { metadata: md(a.accessToken, a.key) }));
    expect(code).toBe(expected);
  });

  it('refuses an unknown task state', async () => {
    const a = await h.register(await h.launchToken({ workflowId: 'watch', taskId: 'task-state' }));
    expect(await codeOf(beat(a, 42))).toBe('ERR_INVALID_ARGUMENT');
  });
});
