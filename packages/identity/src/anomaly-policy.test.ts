import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { generateKeyPair, type KeyPair } from '@baton/core';
import { CreateWorkflowRequestSchema, GetWorkflowRequestSchema, IdentityService, type AnomalyRulesSchema } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { CEILING, codeOf, startHarness, type Harness } from './testing/harness.js';

type Rules = MessageInitShape<typeof AnomalyRulesSchema>;
const OFF = { count: 0, windowSeconds: 0 };

describe('anomaly rules in workflow policy', () => {
  let h: Harness;
  const anomalyKey = generateKeyPair();
  const delegationKey = generateKeyPair();
  beforeAll(async () => {
    h = await startHarness('sqlite', 'anomaly', {
      services: new Map([
        [anomalyKey.thumbprint, 'anomaly'],
        [delegationKey.thumbprint, 'delegation'],
      ]),
    });
  });
  afterAll(async () => h?.close());

  const createWf = (id: string, anomaly?: Rules) => {
    const req: MessageInitShape<typeof CreateWorkflowRequestSchema> = { id, policy: { scopeCeiling: CEILING, ...(anomaly ? { anomaly } : {}) } };
    return h.client.createWorkflow(req, { metadata: h.keyProof(h.operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, req) });
  };
  const getAs = (key: KeyPair, id: string) =>
    h.client.getWorkflow({ id }, { metadata: h.keyProof(key, IdentityService.method.getWorkflow, GetWorkflowRequestSchema, { id }) });

  it('are off unless set, and stored explicitly', async () => {
    const res = await createWf('no-rules');
    expect(res.workflow!.policy!.anomaly).toMatchObject({ scopeDenials: OFF, releasedTokenUse: false, proofFailures: OFF, maxRequestsPerMinute: 0 });
    const rules = { scopeDenials: { count: 5, windowSeconds: 60 }, releasedTokenUse: true, proofFailures: { count: 3, windowSeconds: 30 }, maxRequestsPerMinute: 600 };
    await createWf('with-rules', rules);
    expect((await getAs(h.operator, 'with-rules')).workflow!.policy!.anomaly).toMatchObject(rules);
    const row = await h.db.get<{ policy: string }>("SELECT policy FROM identity_workflows WHERE id = 'with-rules'");
    expect(JSON.parse(row!.policy).anomaly).toEqual(rules);
  });

  it('reads workflows stored before anomaly rules existed as all off', async () => {
    await createWf('legacy');
    const row = await h.db.get<{ policy: string }>("SELECT policy FROM identity_workflows WHERE id = 'legacy'");
    const { anomaly: _dropped, ...old } = JSON.parse(row!.policy) as Record<string, unknown>;
    await h.db.run("UPDATE identity_workflows SET policy = ? WHERE id = 'legacy'", [JSON.stringify(old)]);
    expect((await getAs(h.operator, 'legacy')).workflow!.policy!.anomaly).toMatchObject({ scopeDenials: OFF, releasedTokenUse: false, maxRequestsPerMinute: 0 });
  });

  it('refuses rules out of bounds with ERR_POLICY_INVALID', async () => {
    const cases: [string, Rules][] = [
      ['window without count', { scopeDenials: { count: 0, windowSeconds: 60 } }],
      ['count without window', { scopeDenials: { count: 5, windowSeconds: 0 } }],
      ['window too long', { proofFailures: { count: 2, windowSeconds: 86_401 } }],
      ['count too high', { proofFailures: { count: 10_001, windowSeconds: 60 } }],
      ['rate budget too high', { maxRequestsPerMinute: 1_000_001 }],
    ];
    for (const [name, rules] of cases) expect(await codeOf(createWf(`bad-${cases.findIndex((c) => c[0] === name)}`, rules)), name).toBe('ERR_POLICY_INVALID');
  });

  it('lets the anomaly service read a workflow, and no other service or stranger', async () => {
    await createWf('readable', { releasedTokenUse: true });
    expect((await getAs(anomalyKey, 'readable')).workflow!.policy!.anomaly!.releasedTokenUse).toBe(true);
    expect(await codeOf(getAs(delegationKey, 'readable'))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(getAs(h.stranger, 'readable'))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(h.client.getWorkflow({ id: 'readable' }))).toBe('ERR_PROOF_MISSING');
  });
});
