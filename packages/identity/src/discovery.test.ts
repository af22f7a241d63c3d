import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyPair } from '@baton/core';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { STORES, codeOf, startWithWorkflow, type Harness } from './testing/harness.js';

describe.each(STORES)('Publish and Resolve (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startWithWorkflow(kind, 'disc');
  });
  afterAll(async () => {
    await h.close();
  });

  type Agent = { key: KeyPair; accessToken: string; spiffeId: string };
  const publish = (a: Agent, name: string, address = '127.0.0.1:9001') =>
    h.client.publish({ name, address }, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.publish) });

  it('publishes the caller itself and resolves to its address, SPIFFE id, thumbprint and key', async () => {
    const a = await h.register(await h.launchToken({ taskId: 'task-disc' }), { over: { name: 'manager' } });
    const p = await publish(a, 'payments-agent', 'agent-a.internal:8443');
    expect(p).toMatchObject({ name: 'payments-agent', spiffeId: a.spiffeId });

    const r = await h.client.resolve({ name: 'payments-agent', orchestrationId: 'orch-1', taskId: 'task-disc' });
    expect(r).toMatchObject({ name: 'payments-agent', address: 'agent-a.internal:8443', spiffeId: a.spiffeId, keyThumbprint: a.key.thumbprint });
    expect(Buffer.from(r.publicKey).equals(a.key.rawPublicKey)).toBe(true);

    // Without an explicit scope, Resolve uses the calling agent's own orchestration and task.
    const mine = await h.client.resolve({ name: 'payments-agent' }, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.resolve) });
    expect(mine.spiffeId).toBe(a.spiffeId);
  });

  it("refuses to publish a name another live identity holds, and keeps the holder's entry", async () => {
    const a = await h.register(await h.launchToken({ taskId: 'task-name' }), { over: { name: 'a' } });
    const b = await h.register(await h.launchToken({ taskId: 'task-name' }), { over: { name: 'b' } });
    await publish(a, 'shared', '10.0.0.1:1000');
    expect(await codeOf(publish(b, 'shared', '10.0.0.2:2000'))).toBe('ERR_NAME_TAKEN');
    const r = await h.client.resolve({ name: 'shared', orchestrationId: 'orch-1', taskId: 'task-name' });
    expect(r).toMatchObject({ spiffeId: a.spiffeId, address: '10.0.0.1:1000' });
    // The holder may update its own entry.
    await publish(a, 'shared', '10.0.0.1:1001');
    expect((await h.client.resolve({ name: 'shared', orchestrationId: 'orch-1', taskId: 'task-name' })).address).toBe('10.0.0.1:1001');
  });

  it('lets the successor of a superseded holder take the name over', async () => {
    const first = await h.register(await h.launchToken({ taskId: 'task-succ' }), { over: { name: 'w' } });
    await publish(first, 'worker');
    const second = await h.register(await h.launchToken({ taskId: 'task-succ' }), { over: { name: 'w' } });
    expect(await codeOf(h.client.resolve({ name: 'worker', orchestrationId: 'orch-1', taskId: 'task-succ' }))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(publish(first, 'worker'))).toBe('ERR_AGENT_SUPERSEDED');
    await publish(second, 'worker', '[::1]:7000');
    expect((await h.client.resolve({ name: 'worker', orchestrationId: 'orch-1', taskId: 'task-succ' })).spiffeId).toBe(second.spiffeId);
  });

  it('keeps names per orchestration and task', async () => {
    const a = await h.register(await h.launchToken({ taskId: 'task-x' }));
    const b = await h.register(await h.launchToken({ taskId: 'task-y' }));
    await publish(a, 'same');
    await publish(b, 'same');
    expect((await h.client.resolve({ name: 'same', orchestrationId: 'orch-1', taskId: 'task-y' })).spiffeId).toBe(b.spiffeId);
  });

  it.each([
    ['a malformed name', { name: 'Bad!', address: '127.0.0.1:1' }, 'ERR_ID_INVALID'],
    ['an address without a port', { name: 'ok', address: '127.0.0.1' }, 'ERR_INVALID_ARGUMENT'],
    ['port 0', { name: 'ok', address: 'host:0' }, 'ERR_INVALID_ARGUMENT'],
    ['port 70000', { name: 'ok', address: 'host:70000' }, 'ERR_INVALID_ARGUMENT'],
    ['a URL instead of host:port', { name: 'ok', address: 'http://host:80/' }, 'ERR_INVALID_ARGUMENT'],
  ])('refuses to publish %s', async (_n, req, code) => {
    const a = await h.register(await h.launchToken({ taskId: 'task-bad-pub' }));
    expect(await codeOf(h.client.publish(req, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.publish) }))).toBe(code);
  });

  it('refuses Publish without agent credentials', async () => {
    expect(await codeOf(h.client.publish({ name: 'x', address: 'h:1' }))).toBe('ERR_TOKEN_MISSING');
  });

  it.each([
    ['no scope and no credentials', { name: 'x' }, 'ERR_INVALID_ARGUMENT'],
    ['only an orchestration', { name: 'x', orchestrationId: 'orch-1' }, 'ERR_INVALID_ARGUMENT'],
    ['a malformed task id', { name: 'x', orchestrationId: 'orch-1', taskId: 'bad task' }, 'ERR_ID_INVALID'],
    ['an unknown name', { name: 'nobody', orchestrationId: 'orch-1', taskId: 'task-disc' }, 'ERR_NOT_FOUND'],
  ])('refuses Resolve with %s', async (_n, req, code) => {
    expect(await codeOf(h.client.resolve(req))).toBe(code);
  });
});
