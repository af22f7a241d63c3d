import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentSpiffeId, generateKeyPair } from '@baton/core';
import { GetAgentRequestSchema, IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { STORES, codeOf, startHarness, type Harness } from './testing/harness.js';

const delegationKey = generateKeyPair();

describe.each(STORES)('GetAgent (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, 'getagent', { services: new Map([[delegationKey.thumbprint, 'delegation']]) });
    await h.createWorkflow('invoices', { maxDelegationDepth: 3, allowRedelegation: true, allowedDelegationTargets: ['spiffe://baton.local/agent/partner/*/*'] });
    await h.createWorkflow('other', { maxDelegationDepth: 1 });
    await h.addOrchestrator('orch-1', ['invoices', 'other']);
  });
  afterAll(async () => {
    await h.close();
  });

  const get = (req: { spiffeId: string; policyWorkflowId?: string }, key = delegationKey) =>
    h.client.getAgent(req, { metadata: h.keyProof(key, IdentityService.method.getAgent, GetAgentRequestSchema, req) });

  it('answers a Baton service with the instance, its key, liveness and the delegation policy', async () => {
    const a = await h.register(await h.launchToken({ taskId: 'task-ga' }), { over: { name: 'intern' } });
    const r = await get({ spiffeId: a.spiffeId });
    expect(r).toMatchObject({
      spiffeId: a.spiffeId,
      live: true,
      status: 'active',
      workflowId: 'invoices',
      orchestrationId: 'orch-1',
      taskId: 'task-ga',
      name: 'intern',
      keyThumbprint: a.key.thumbprint,
      taskDeadline: a.taskDeadline,
      delegationPolicy: { workflowId: 'invoices', maxDelegationDepth: 3, allowRedelegation: true, allowedDelegationTargets: ['spiffe://baton.local/agent/partner/*/*'] },
    });
    expect(Buffer.from(r.publicKey).equals(a.key.rawPublicKey)).toBe(true);
    // Another workflow's policy on request (the chain's, when the delegatee runs elsewhere).
    expect((await get({ spiffeId: a.spiffeId, policyWorkflowId: 'other' })).delegationPolicy).toMatchObject({ workflowId: 'other', maxDelegationDepth: 1 });
  });

  it('reports a superseded instance as not live', async () => {
    const first = await h.register(await h.launchToken({ taskId: 'task-sup' }), { over: { name: 'w' } });
    await h.register(await h.launchToken({ taskId: 'task-sup' }), { over: { name: 'w' } });
    expect(await get({ spiffeId: first.spiffeId })).toMatchObject({ live: false, status: 'superseded' });
  });

  it.each<[string, () => Promise<unknown>, string]>([
    ['an unknown agent', () => get({ spiffeId: agentSpiffeId('baton.local', 'orch-1', 'task-ga', 'AAAAAAAAAAAAAAAAAAAAAA') }), 'ERR_AGENT_NOT_FOUND'],
    ['a non-agent id', () => get({ spiffeId: 'spiffe://baton.local/authority' }), 'ERR_AGENT_NOT_FOUND'],
    ['an unknown policy workflow', async () => get({ spiffeId: (await h.register(await h.launchToken({ taskId: 'task-w' }))).spiffeId, policyWorkflowId: 'nope' }), 'ERR_WORKFLOW_NOT_FOUND'],
    ['a key that is no Baton service', () => get({ spiffeId: 'spiffe://baton.local/authority' }, h.stranger), 'ERR_PERMISSION_DENIED'],
    ['an operator key', () => get({ spiffeId: 'spiffe://baton.local/authority' }, h.operator), 'ERR_PERMISSION_DENIED'],
    ['no proof', () => h.client.getAgent({ spiffeId: 'spiffe://baton.local/authority' }), 'ERR_PROOF_MISSING'],
  ])('refuses %s', async (_name, call, expected) => {
    expect(await codeOf(call())).toBe(expected);
  });
});
