/**
 * Unicode confusables and mixed case in SPIFFE IDs and the ids they are built from:
 * in a token's `sub` (re-signed with the real key), in Register names, launch-token
 * tasks, workflow and orchestrator ids, revocation targets, discovery names and
 * delegation targets. Nothing is normalised or case-folded anywhere: a look-alike is
 * either refused as malformed or is simply a different identity, never a match for the
 * real one — so a revocation can neither miss its target nor hit a neighbour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyPair } from '@baton/core';
import { scopeToProto } from '@baton/proto';
import { AddOrchestratorRequestSchema, CreateWorkflowRequestSchema, IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService, RevocationLevel, RevocationReason, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { resign, withMember } from './support/forge.js';
import { delegateHop, hopClaims, rawHop } from './support/hops.js';
import { outcomeOf } from './support/outcome.js';
import { CEILING, ORCHESTRATION, startStack, type Stack, type TestAgent } from './support/stack.js';

let s: Stack;
let victim: TestAgent;
let signing: KeyPair;

beforeAll(async () => {
  s = await startStack();
  victim = await s.agent('confusable-task', 'manager');
  signing = s.signingKey();
});
afterAll(async () => {
  await s?.close();
});

/** Look-alikes of a SPIFFE id: each must be refused as malformed. */
function lookAlikes(id: string): { name: string; id: string }[] {
  const path = id.slice('spiffe://baton.local'.length);
  return [
    { name: 'Cyrillic а in the trust domain', id: `spiffe://b\u0430ton.local${path}` },
    { name: 'upper-case trust domain', id: `spiffe://BATON.local${path}` },
    { name: 'upper-case scheme', id: `SPIFFE://baton.local${path}` },
    { name: 'full-width solidus', id: `spiffe://baton.local\uff0fagent${path.slice('/agent'.length)}` },
    { name: 'zero-width space in a segment', id: `spiffe://baton.local/agent\u200b${path.slice('/agent'.length)}` },
    { name: 'Cyrillic а in the path', id: `spiffe://baton.local/\u0430gent${path.slice('/agent'.length)}` },
    { name: 'percent-encoded segment', id: `spiffe://baton.local/%61gent${path.slice('/agent'.length)}` },
    { name: 'trailing slash', id: `${id}/` },
    { name: 'dot-dot segment', id: `spiffe://baton.local/agent/x/..${path.slice('/agent'.length)}` },
    { name: 'empty segment', id: `spiffe://baton.local/agent/${path.slice('/agent'.length)}` },
    { name: 'a port', id: `spiffe://baton.local:443${path}` },
    { name: 'userinfo', id: `spiffe://admin@baton.local${path}` },
  ];
}

describe('look-alike sub in a token signed by the real key', () => {
  it('the unmodified re-signed token passes, so each case tests only its sub', async () => {
    const token = resign(victim.token, signing.privateKey, { payload: (p) => withMember(p, 'sub', JSON.stringify(victim.spiffeId)) });
    expect(await outcomeOf(s.approve({ key: victim.key, token }))).toBe('OK');
  });

  it('every look-alike → ERR_TOKEN_CLAIMS_INVALID at the guard, Renew and Introspect', async () => {
    const before = await s.state();
    for (const { name, id } of lookAlikes(victim.spiffeId)) {
      const token = resign(victim.token, signing.privateKey, { payload: (p) => withMember(p, 'sub', JSON.stringify(id)) });
      const guard = await outcomeOf(s.approve({ key: victim.key, token }));
      const renew = await outcomeOf(s.issuer.renew({}, { metadata: s.dpop(victim.key, token, IssuerService.method.renew) }));
      const intro = await s.issuer.introspect({ token });
      expect({ name, guard, renew, introspect: intro.inactiveCode }).toEqual({
        name,
        guard: 'ERR_TOKEN_CLAIMS_INVALID',
        renew: 'ERR_TOKEN_CLAIMS_INVALID',
        introspect: 'ERR_TOKEN_CLAIMS_INVALID',
      });
    }
    expect(await s.state()).toEqual(before);
  });
});

const confusableIds = [
  { name: 'Cyrillic а', value: 'm\u0430nager' },
  { name: 'Greek ο', value: 'manager-\u03bf' },
  { name: 'upper case', value: 'Manager' },
  { name: 'all upper case', value: 'MANAGER' },
  { name: 'full-width letter', value: '\uff4danager' },
  { name: 'zero-width joiner', value: 'mana\u200dger' },
  { name: 'dotless ı', value: 'admın' },
  { name: 'Kelvin sign (folds to k)', value: 'wor\u212aer' },
];

describe('look-alike ids at the authority', () => {
  it.each(confusableIds)('Register name with $name → ERR_ID_INVALID, launch token not consumed', async ({ value }) => {
    const lt = await s.launchToken();
    const before = await s.state();
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt, { name: value })))).toBe('ERR_ID_INVALID');
    expect(await s.state()).toEqual(before);
    expect(await outcomeOf(s.identity.register(await s.registerRequest(lt, { name: 'manager' })))).toBe('OK');
  });

  it.each(confusableIds.filter((c) => c.name !== 'upper case' && c.name !== 'all upper case'))(
    'CreateLaunchToken task with $name → ERR_ID_INVALID, nothing stored',
    async ({ value }) => {
      const before = await s.state();
      expect(await outcomeOf(s.launchToken({ taskId: value }))).toBe('ERR_ID_INVALID');
      expect(await s.state()).toEqual(before);
    },
  );

  it.each(confusableIds)('workflow and orchestrator ids with $name → ERR_ID_INVALID, nothing stored', async ({ value }) => {
    const before = await s.state();
    const wf = { id: value, policy: { scopeCeiling: CEILING.map(scopeToProto), audiences: ['payments'] } };
    expect(await outcomeOf(s.identity.createWorkflow(wf, { metadata: s.keyProof(s.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf) }))).toBe(
      'ERR_ID_INVALID',
    );
    const orch = { id: value, publicKey: victim.key.rawPublicKey, workflowIds: ['adv-wf'] };
    expect(
      await outcomeOf(s.identity.addOrchestrator(orch, { metadata: s.keyProof(s.operator, IdentityService.method.addOrchestrator, AddOrchestratorRequestSchema, orch) })),
    ).toBe('ERR_ID_INVALID');
    expect(await outcomeOf(s.launchToken({ workflowId: value }))).toBe('ERR_ID_INVALID');
    expect(await outcomeOf(s.identity.resolve({ name: value, orchestrationId: ORCHESTRATION, taskId: 'confusable-task' }))).toBe('ERR_ID_INVALID');
    expect(await s.state()).toEqual(before);
  });

  it('a workflow whose delegation targets hold look-alike SPIFFE ids → ERR_POLICY_INVALID', async () => {
    const before = await s.state();
    for (const { id } of lookAlikes('spiffe://baton.local/agent/adv-orch/*/*')) {
      const wf = { id: 'wf-targets', policy: { scopeCeiling: CEILING.map(scopeToProto), audiences: ['payments'], allowedDelegationTargets: [id] } };
      const code = await outcomeOf(
        s.identity.createWorkflow(wf, { metadata: s.keyProof(s.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf) }),
      );
      expect({ id, code }).toEqual({ id, code: 'ERR_POLICY_INVALID' });
    }
    expect(await s.state()).toEqual(before);
  });
});

describe('case is identity, never folded', () => {
  const revoke = (level: RevocationLevel, target: string) => {
    const req = { level, target, reason: RevocationReason.MANUAL };
    return s.issuer.revoke(req, { metadata: s.keyProof(s.operator, IssuerService.method.revoke, RevokeRequestSchema, req) });
  };

  it('tasks "pay" and "PAY" are two tasks: neither supersedes the other, and a TASK revocation hits only its own', async () => {
    const lower = await s.agent('pay', 'worker');
    const upper = await s.agent('PAY', 'worker');
    expect(upper.spiffeId.toLowerCase()).not.toBe(upper.spiffeId);
    expect(await outcomeOf(s.approve(lower))).toBe('OK');
    expect(await outcomeOf(s.approve(upper))).toBe('OK');
    await revoke(RevocationLevel.TASK, `${ORCHESTRATION}/pay`);
    await expect.poll(() => outcomeOf(s.approve(lower)), { timeout: 15_000 }).toBe('ERR_TOKEN_REVOKED');
    expect(await outcomeOf(s.approve(upper))).toBe('OK');
  });

  it('look-alike AGENT targets are refused; a case-flipped instance id is another agent and leaves the real one alone', async () => {
    const a = await s.agent();
    const before = await s.state();
    for (const { name, id } of lookAlikes(a.spiffeId)) {
      expect({ name, code: await outcomeOf(revoke(RevocationLevel.AGENT, id)) }).toEqual({ name, code: 'ERR_INVALID_ARGUMENT' });
    }
    expect(await s.state()).toEqual(before);
    const instance = a.spiffeId.slice(a.spiffeId.lastIndexOf('/') + 1);
    const flipped = [...instance].map((ch) => (ch === ch.toLowerCase() ? ch.toUpperCase() : ch.toLowerCase())).join('');
    await revoke(RevocationLevel.AGENT, a.spiffeId.slice(0, -instance.length) + flipped);
    const probe = await s.agent();
    await revoke(RevocationLevel.AGENT, probe.spiffeId);
    // Once the feed delivered the later entry, it has delivered the earlier one too.
    await expect.poll(() => outcomeOf(s.approve(probe)), { timeout: 15_000 }).toBe('ERR_TOKEN_REVOKED');
    expect(await outcomeOf(s.approve(a))).toBe('OK');
  });
});

describe('look-alike delegation targets', () => {
  it('a hop to a look-alike of a registered agent is refused; nothing is recorded or issued', async () => {
    const delegatee = await s.agent('confusable-task', 'intern');
    const before = await s.state();
    const cases = [
      ...lookAlikes(delegatee.spiffeId).map((c) => ({ ...c, code: 'ERR_CHAIN_INVALID' })),
      { name: 'task in upper case', id: delegatee.spiffeId.replace('/confusable-task/', '/CONFUSABLE-TASK/'), code: 'ERR_DELEGATEE_UNKNOWN' },
      { name: 'instance id in another case', id: delegatee.spiffeId.replace(/[^/]+$/, (i) => i.toUpperCase() === i ? i.toLowerCase() : i.toUpperCase()), code: 'ERR_DELEGATEE_UNKNOWN' },
    ];
    for (const { name, id, code } of cases) {
      const hop = rawHop({ ...hopClaims(victim, delegatee), sub: id }, victim.key);
      expect({ name, code: await outcomeOf(delegateHop(s, victim, hop)) }).toEqual({ name, code });
    }
    expect(await s.state()).toEqual(before);
  });
});
