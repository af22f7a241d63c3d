import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { generateKeyPair, randomBytes } from '@baton/core';
import {
  AddOrchestratorRequestSchema,
  CreateWorkflowRequestSchema,
  GetWorkflowRequestSchema,
  IdentityService,
  ListWorkflowsRequestSchema,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
import { CEILING, STORES, codeOf, startHarness, type Harness } from './testing/harness.js';

type CreateReq = MessageInitShape<typeof CreateWorkflowRequestSchema>;

describe.each(STORES)('workflows and orchestrators (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, 'wf');
  });
  afterAll(async () => {
    await h.close();
  });

  const createAs = (key: typeof h.operator, req: CreateReq) =>
    h.client.createWorkflow(req, { metadata: h.keyProof(key, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, req) });
  const get = (id: string) => {
    const req = { id };
    return h.client.getWorkflow(req, { metadata: h.keyProof(h.operator, IdentityService.method.getWorkflow, GetWorkflowRequestSchema, req) });
  };
  const list = (pageSize: number, pageToken = '') => {
    const req = { pageSize, pageToken };
    return h.client.listWorkflows(req, { metadata: h.keyProof(h.operator, IdentityService.method.listWorkflows, ListWorkflowsRequestSchema, req) });
  };
  const addOrch = (req: MessageInitShape<typeof AddOrchestratorRequestSchema>, as = h.operator) =>
    h.client.addOrchestrator(req, { metadata: h.keyProof(as, IdentityService.method.addOrchestrator, AddOrchestratorRequestSchema, req) });

  it('creates a workflow with every default applied and stored explicitly', async () => {
    const res = await createAs(h.operator, { id: 'defaults', policy: { scopeCeiling: CEILING } });
    const expected = {
      defaultTokenTtlSeconds: 300,
      maxTokenTtlSeconds: 300,
      maxTaskTtlSeconds: 3600,
      maxRenewals: 100,
      maxDelegationDepth: 5,
      heartbeat: { intervalSeconds: 30, missesBeforeFlag: 3, revokeOnFlag: false },
    };
    expect(res.workflow!.policy).toMatchObject(expected);
    expect((await get('defaults')).workflow!.policy).toMatchObject(expected);
    expect(res.workflow!.createdAt).toBe(BigInt(Math.floor(h.clock.now() / 1000)));
    const row = await h.db.get<{ policy: string }>("SELECT policy FROM identity_workflows WHERE id = 'defaults'");
    expect(JSON.parse(row!.policy)).toMatchObject(expected);
  });

  it('follows a lowered maximum TTL when no default TTL is given', async () => {
    const res = await createAs(h.operator, { id: 'short', policy: { scopeCeiling: CEILING, maxTokenTtlSeconds: 60 } });
    expect(res.workflow!.policy).toMatchObject({ defaultTokenTtlSeconds: 60, maxTokenTtlSeconds: 60 });
  });

  it('refuses a duplicate id with ERR_WORKFLOW_EXISTS', async () => {
    await createAs(h.operator, { id: 'dup', policy: { scopeCeiling: CEILING } });
    expect(await codeOf(createAs(h.operator, { id: 'dup', policy: { scopeCeiling: CEILING } }))).toBe('ERR_WORKFLOW_EXISTS');
  });

  const badPolicies: [string, CreateReq['policy'] | undefined][] = [
    ['no policy', undefined],
    ['an empty scope ceiling', { scopeCeiling: [] }],
    ['a malformed ceiling scope', { scopeCeiling: [{ action: 'read:x', resource: 'y' }] }],
    ['delegation depth 6 (hard cap 5)', { scopeCeiling: CEILING, maxDelegationDepth: 6 }],
    ['a default TTL above the maximum', { scopeCeiling: CEILING, defaultTokenTtlSeconds: 600, maxTokenTtlSeconds: 300 }],
    ['a token TTL above the hard limit', { scopeCeiling: CEILING, maxTokenTtlSeconds: 3601 }],
    ['a task TTL above the hard limit', { scopeCeiling: CEILING, maxTaskTtlSeconds: 8 * 24 * 3600 }],
    ['renewals above the hard limit', { scopeCeiling: CEILING, maxRenewals: 1001 }],
    ['a heartbeat interval of 1 s', { scopeCeiling: CEILING, heartbeat: { intervalSeconds: 1 } }],
    ['101 misses before flag', { scopeCeiling: CEILING, heartbeat: { missesBeforeFlag: 101 } }],
    ['an audience with a space', { scopeCeiling: CEILING, audiences: ['pay ments'] }],
    ['16 audiences', { scopeCeiling: CEILING, audiences: Array.from({ length: 16 }, (_, i) => `aud-${i}`) }],
    ['a malformed delegation target', { scopeCeiling: CEILING, allowedDelegationTargets: ['https://example.com/*'] }],
    ['65 ceiling scopes', { scopeCeiling: Array.from({ length: 65 }, (_, i) => ({ action: 'read', resource: `r${i}` })) }],
  ];
  it.each(badPolicies)('refuses %s with ERR_POLICY_INVALID', async (_n, policy) => {
    const req = policy === undefined ? { id: 'bad-policy' } : { id: 'bad-policy', policy };
    expect(await codeOf(createAs(h.operator, req))).toBe('ERR_POLICY_INVALID');
    expect(await codeOf(get('bad-policy'))).toBe('ERR_WORKFLOW_NOT_FOUND');
  });

  it('accepts delegation target patterns with * segments', async () => {
    const res = await createAs(h.operator, {
      id: 'targets',
      policy: { scopeCeiling: CEILING, allowedDelegationTargets: ['spiffe://baton.local/agent/*/*/*'] },
    });
    expect(res.workflow!.policy!.allowedDelegationTargets).toEqual(['spiffe://baton.local/agent/*/*/*']);
  });

  it.each([
    ['uppercase', 'Invoices'],
    ['a slash', 'a/b'],
    ['65 characters', 'a'.repeat(65)],
    ['..', '..'],
  ])('refuses a workflow id with %s', async (_n, id) => {
    expect(await codeOf(createAs(h.operator, { id, policy: { scopeCeiling: CEILING } }))).toBe('ERR_ID_INVALID');
  });

  it('is operator only: no proof, a stranger key, a replayed proof and a proof for another body are refused', async () => {
    const req = { id: 'nope', policy: { scopeCeiling: CEILING } };
    expect(await codeOf(h.client.createWorkflow(req))).toBe('ERR_PROOF_MISSING');
    expect(await codeOf(createAs(h.stranger, req))).toBe('ERR_PERMISSION_DENIED');
    const md = h.keyProof(h.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, { id: 'other', policy: { scopeCeiling: CEILING } });
    expect(await codeOf(h.client.createWorkflow(req, { metadata: md }))).toBe('ERR_PROOF_REQUEST_MISMATCH');
    const ok = h.keyProof(h.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, req);
    await h.client.createWorkflow(req, { metadata: ok });
    expect(await codeOf(h.client.createWorkflow(req, { metadata: ok }))).toBe('ERR_PROOF_REPLAYED');
  });

  it('lists workflows in pages', async () => {
    const ids = new Set<string>();
    let token = '';
    let pages = 0;
    do {
      const page = await list(2, token);
      expect(page.workflows.length).toBeLessThanOrEqual(2);
      for (const w of page.workflows) ids.add(w.id);
      token = page.nextPageToken;
      pages++;
    } while (token !== '' && pages < 50);
    const all = (await list(0)).workflows.map((w) => w.id);
    expect([...ids]).toEqual(all);
    expect(all).toEqual([...all].sort());
    expect(pages).toBe(Math.ceil(all.length / 2));
    expect(await codeOf(list(2, '!!not-a-token'))).toBe('ERR_INVALID_ARGUMENT');
  });

  describe('AddOrchestrator', () => {
    it('registers a raw Ed25519 key and returns its RFC 7638 thumbprint', async () => {
      const key = generateKeyPair();
      const res = await addOrch({ id: 'orch-a', publicKey: key.rawPublicKey, workflowIds: ['defaults'] });
      expect(res).toMatchObject({ id: 'orch-a', keyThumbprint: key.thumbprint });
    });

    it.each([
      ['31 bytes', () => randomBytes(31)],
      ['33 bytes', () => randomBytes(33)],
      ['empty', () => new Uint8Array()],
      ['the identity point (small order)', () => Buffer.concat([Buffer.from([1]), Buffer.alloc(31)])],
      ['a non-canonical encoding (y ≥ p)', () => Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex')],
    ])('refuses a malformed key (%s) with ERR_KEY_INVALID', async (_n, key) => {
      expect(await codeOf(addOrch({ id: 'orch-bad', publicKey: key(), workflowIds: ['defaults'] }))).toBe('ERR_KEY_INVALID');
    });

    it('refuses unknown workflows, duplicates, reused keys, operator keys and non-operators', async () => {
      const key = generateKeyPair();
      expect(await codeOf(addOrch({ id: 'orch-b', publicKey: key.rawPublicKey, workflowIds: ['missing'] }))).toBe('ERR_WORKFLOW_NOT_FOUND');
      expect(await codeOf(addOrch({ id: 'orch-b', publicKey: key.rawPublicKey, workflowIds: [] }))).toBe('ERR_INVALID_ARGUMENT');
      expect(await codeOf(addOrch({ id: 'Orch B', publicKey: key.rawPublicKey, workflowIds: ['defaults'] }))).toBe('ERR_ID_INVALID');
      await addOrch({ id: 'orch-b', publicKey: key.rawPublicKey, workflowIds: ['defaults'] });
      expect(await codeOf(addOrch({ id: 'orch-b', publicKey: generateKeyPair().rawPublicKey, workflowIds: ['defaults'] }))).toBe('ERR_ALREADY_EXISTS');
      expect(await codeOf(addOrch({ id: 'orch-c', publicKey: key.rawPublicKey, workflowIds: ['defaults'] }))).toBe('ERR_ALREADY_EXISTS');
      expect(await codeOf(addOrch({ id: 'orch-d', publicKey: h.operator.rawPublicKey, workflowIds: ['defaults'] }))).toBe('ERR_ALREADY_EXISTS');
      expect(await codeOf(addOrch({ id: 'orch-e', publicKey: generateKeyPair().rawPublicKey, workflowIds: ['defaults'] }, key))).toBe('ERR_PERMISSION_DENIED');
    });
  });
});
