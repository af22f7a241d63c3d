import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { generateKeyPair, signJws, type KeyPair } from '@baton/core';
import { createGuard, dpopMetadata, keyProofMetadata } from '@baton/guard';
import { AnomalyService, ReportDecisionsRequestSchema } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';
import { IssuerService, RevocationLevel as L, RevocationReason as R, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { createDecisionReporter } from './decision-reporter.js';
import { ISSUER, codeOf, startHarness, type Harness } from './testing/harness.js';

type Report = MessageInitShape<typeof ReportDecisionsRequestSchema>;
const DENIED = { action: 'approve', resource: 'invoice', attributes: { amount: 9000 } };
const ALLOWED = { action: 'approve', resource: 'invoice', attributes: { amount: 100 } };
const DENIED_WIRE = { action: 'approve', resource: 'invoice', attributes: { amount: { kind: { case: 'numberValue' as const, value: 9000 } } } };
const ALLOWED_WIRE = { action: 'approve', resource: 'invoice', attributes: { amount: { kind: { case: 'numberValue' as const, value: 100 } } } };

describe('anomaly response end to end (guard → reporter → AnomalyService → Revoke)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    await h.createWorkflow('wf-scope', { scopeDenials: { count: 3, windowSeconds: 60 } });
    await h.createWorkflow('wf-released', { releasedTokenUse: true });
    await h.createWorkflow('wf-proof', { proofFailures: { count: 2, windowSeconds: 60 } });
    await h.createWorkflow('wf-rate', { maxRequestsPerMinute: 5 });
    await h.createWorkflow('wf-off', {});
  });
  afterAll(async () => h?.close());

  const send = (key: KeyPair, req: Report) => {
    const msg = create(ReportDecisionsRequestSchema, req);
    return h.anomalyClient.reportDecisions(msg, { metadata: keyProofMetadata(key, AnomalyService.method.reportDecisions, toBinary(ReportDecisionsRequestSchema, msg), h.clock.now()) });
  };
  const withReporter = async (body: () => Promise<void>) => {
    const reporter = createDecisionReporter({ client: h.anomalyClient, key: h.payments, clock: h.clock, flushIntervalMs: 3_600_000 });
    h.hooks.push(reporter.onDecision);
    try {
      await body();
      await reporter.flush();
      expect(reporter.stats.failedBatches).toBe(0);
    } finally {
      h.hooks.splice(h.hooks.indexOf(reporter.onDecision), 1);
      await reporter.close();
    }
  };
  const anomalyAudits = () => h.audit.filter((r) => r.type === 'anomaly.revoked');

  it('N scope denials by one agent revoke that agent: audited, counted, and every guard then denies', async () => {
    const victim = await h.newAgent('wf-scope', 'task-s');
    const sibling = await h.newAgent('wf-scope', 'task-s');
    await withReporter(async () => {
      for (let i = 0; i < 3; i++) expect(await h.call(victim, DENIED)).toMatchObject({ allow: false, code: 'ERR_CONSTRAINT_VIOLATED' });
    });
    expect(await h.state(victim.token)).toBe('ERR_TOKEN_REVOKED');
    expect(await h.state(sibling.token)).toBe('active');
    await vi.waitFor(async () => expect(await h.call(victim, ALLOWED)).toMatchObject({ allow: false, code: 'ERR_TOKEN_REVOKED' }));
    expect(await h.call(sibling, ALLOWED)).toMatchObject({ allow: true });
    expect(anomalyAudits().at(-1)).toMatchObject({
      type: 'anomaly.revoked',
      outcome: 'info',
      agent: victim.sub,
      workflow: 'wf-scope',
      resource: 'revocation:agent',
      reasonCode: 'anomaly.scope_denials',
      attributes: { anomaly: 'scope_denials', revocation_kind: 'agent' },
    });
    expect(h.audit.find((r) => r.type === 'token.revoked' && r.agent === victim.sub)).toMatchObject({ reasonCode: 'revocation.anomaly' });
    expect(h.counted).toContainEqual({ rule: 'scope_denials', level: 'agent' });
  });

  it('use of a released token revokes its whole task', async () => {
    const done = await h.newAgent('wf-released', 'task-r');
    const peer = await h.newAgent('wf-released', 'task-r');
    const other = await h.newAgent('wf-released', 'task-other');
    await h.issuerClient.release({}, { metadata: dpopMetadata(done.key, done.token, IssuerService.method.release, h.clock.now()) });
    await vi.waitFor(async () => expect(await h.call(done, ALLOWED)).toMatchObject({ allow: false, code: 'ERR_TOKEN_RELEASED' }));
    await withReporter(async () => {
      expect(await h.call(done, ALLOWED)).toMatchObject({ allow: false, code: 'ERR_TOKEN_RELEASED' });
    });
    expect(await h.state(peer.token)).toBe('ERR_TOKEN_REVOKED');
    expect(await h.state(other.token)).toBe('active');
    expect(anomalyAudits().at(-1)).toMatchObject({ reasonCode: 'anomaly.released_token_use', resource: 'revocation:task', task: 'task-r' });
  });

  it('repeated proof failures for one token revoke that token only', async () => {
    const a = await h.newAgent('wf-proof', 'task-p');
    const second = await h.newAgent('wf-proof', 'task-p');
    const thief = generateKeyPair();
    await withReporter(async () => {
      for (let i = 0; i < 2; i++) expect(await h.call(a, ALLOWED, { proofKey: thief })).toMatchObject({ allow: false, code: 'ERR_PROOF_KEY_MISMATCH' });
    });
    expect(await h.state(a.token)).toBe('ERR_TOKEN_REVOKED');
    expect(await h.state(second.token)).toBe('active');
    expect(anomalyAudits().at(-1)).toMatchObject({ reasonCode: 'anomaly.proof_failures', resource: 'revocation:token', attributes: { jti: a.jti } });
  });

  it('a request rate above the workflow budget revokes the agent', async () => {
    const busy = await h.newAgent('wf-rate', 'task-q');
    await withReporter(async () => {
      for (let i = 0; i < 6; i++) expect(await h.call(busy, ALLOWED)).toMatchObject({ allow: true });
    });
    expect(await h.state(busy.token)).toBe('ERR_TOKEN_REVOKED');
    expect(anomalyAudits().at(-1)).toMatchObject({ reasonCode: 'anomaly.request_rate', agent: busy.sub });
  });

  it('revokes nothing for a workflow without rules', async () => {
    const a = await h.newAgent('wf-off', 'task-o');
    const before = anomalyAudits().length;
    await withReporter(async () => {
      for (let i = 0; i < 20; i++) await h.call(a, DENIED);
    });
    expect(await h.state(a.token)).toBe('active');
    expect(anomalyAudits()).toHaveLength(before);
  });

  it('takes decisions from guards in its own process without evidence round trips', async () => {
    const a = await h.newAgent('wf-scope', 'task-local');
    const local = createGuard({ audience: 'payments', issuer: ISSUER, keys: { key: (kid) => h.issuer.keyRing.publicKey(kid) }, clock: h.clock, onDecision: h.anomaly.ingest });
    for (let i = 0; i < 3; i++) {
      const md = dpopMetadata(a.key, a.token, '/x/Y', h.clock.now());
      expect(await local.check({ token: a.token, proof: md.dpop, htm: 'POST', htu: '/x/Y', request: DENIED })).toMatchObject({ allow: false });
    }
    await h.anomaly.idle();
    expect(await h.state(a.token)).toBe('ERR_TOKEN_REVOKED');
    expect(anomalyAudits().at(-1)).toMatchObject({ agent: a.sub, reasonDetail: expect.stringContaining('reported by authority') });
  });

  describe('reporters cannot revoke what they cannot prove', () => {
    it('refuses keys that are not registered reporters, and replayed proofs', async () => {
      const a = await h.newAgent('wf-scope', 'task-x1');
      const req: Report = { tokens: [a.token], decisions: [{ token: 0, code: 'ERR_SCOPE_DENIED', request: DENIED_WIRE }] };
      expect(await codeOf(send(generateKeyPair(), req))).toBe('ERR_PERMISSION_DENIED');
      expect(await codeOf(send(h.anomalyKey, req))).toBe('ERR_PERMISSION_DENIED');
      expect(await codeOf(h.anomalyClient.reportDecisions(req))).toBe('ERR_PROOF_MISSING');
      const msg = create(ReportDecisionsRequestSchema, req);
      const md = keyProofMetadata(h.payments, AnomalyService.method.reportDecisions, toBinary(ReportDecisionsRequestSchema, msg), h.clock.now());
      await h.anomalyClient.reportDecisions(msg, { metadata: md });
      expect(await codeOf(h.anomalyClient.reportDecisions(msg, { metadata: md }))).toBe('ERR_PROOF_REPLAYED');
      expect(await h.state(a.token)).toBe('active');
    });

    it('counts only decisions whose evidence verifies', async () => {
      const a = await h.newAgent('wf-scope', 'task-x2');
      const b = await h.newAgent('wf-released', 'task-x2');
      const attacker = generateKeyPair();
      const claims = JSON.parse(Buffer.from(a.token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
      const forged = signJws({ typ: 'at+jwt', kid: attacker.thumbprint }, claims, attacker.privateKey);
      const times = <T>(n: number, x: T): T[] => Array.from({ length: n }, () => x);
      const cases: [string, KeyPair, Report][] = [
        ['a token addressed to another audience', h.inventory, { tokens: [a.token], decisions: times(5, { token: 0, code: 'ERR_SCOPE_DENIED', request: DENIED_WIRE }) }],
        ['a token signed by someone else', h.payments, { tokens: [forged], decisions: times(5, { token: 0, code: 'ERR_SCOPE_DENIED', request: DENIED_WIRE }) }],
        ['a "denial" of a request the token permits', h.payments, { tokens: [a.token], decisions: times(5, { token: 0, code: 'ERR_CONSTRAINT_VIOLATED', request: ALLOWED_WIRE }) }],
        ['a denial without its request', h.payments, { tokens: [a.token], decisions: times(5, { token: 0, code: 'ERR_SCOPE_DENIED' }) }],
        ['a "released" token that is active', h.payments, { tokens: [b.token], decisions: times(5, { token: 0, code: 'ERR_TOKEN_RELEASED' }) }],
        ['a code Baton does not have', h.payments, { tokens: [a.token], decisions: times(5, { token: 0, code: 'ERR_MADE_UP' }) }],
        ['a token index out of range', h.payments, { tokens: [a.token], decisions: times(5, { token: 7, code: 'ERR_SCOPE_DENIED', request: DENIED_WIRE }) }],
        ['garbage as a token', h.payments, { tokens: ['x.y.z'], decisions: times(5, { token: 0, code: 'ERR_SCOPE_DENIED', request: DENIED_WIRE }) }],
      ];
      for (const [name, key, req] of cases) {
        expect(await send(key, req), name).toMatchObject({ accepted: 0, rejected: 5, revocations: 0 });
      }
      expect(await h.state(a.token)).toBe('active');
      expect(await h.state(b.token)).toBe('active');
      // The genuine article still counts.
      expect(await send(h.payments, { tokens: [a.token], decisions: times(3, { token: 0, code: 'ERR_SCOPE_DENIED', request: DENIED_WIRE }) })).toMatchObject({
        accepted: 3,
        revocations: 1,
      });
      expect(await h.state(a.token)).toBe('ERR_TOKEN_REVOKED');
    });

    it('the anomaly service key revokes only tokens, agents and tasks, and only for ANOMALY', async () => {
      const a = await h.newAgent('wf-off', 'task-x4');
      const as = (req: MessageInitShape<typeof RevokeRequestSchema>) =>
        h.issuerClient.revoke(req, { metadata: h.keyProof(h.anomalyKey, IssuerService.method.revoke, RevokeRequestSchema, req) });
      expect(await codeOf(as({ level: L.AGENT, target: a.sub, reason: R.MANUAL }))).toBe('ERR_PERMISSION_DENIED');
      expect(await codeOf(as({ level: L.WORKFLOW, target: 'wf-off', reason: R.ANOMALY }))).toBe('ERR_PERMISSION_DENIED');
      expect(await codeOf(as({ level: L.KEY, target: h.issuer.keyRing.activeKid, reason: R.ANOMALY }))).toBe('ERR_PERMISSION_DENIED');
      expect(await h.state(a.token)).toBe('active');
      expect((await as({ level: L.TOKEN, target: a.jti, reason: R.ANOMALY })).sequence).toBeGreaterThan(0n);
      expect(await h.state(a.token)).toBe('ERR_TOKEN_REVOKED');
    });

    it('bounds batches', async () => {
      const a = await h.newAgent('wf-off', 'task-x3');
      const big: Report = { tokens: [a.token], decisions: Array.from({ length: 1001 }, () => ({ token: 0 })) };
      expect(await codeOf(send(h.payments, big))).toBe('ERR_INVALID_ARGUMENT');
      expect(await codeOf(send(h.payments, { tokens: Array.from({ length: 201 }, () => a.token), decisions: [] }))).toBe('ERR_INVALID_ARGUMENT');
    });
  });
});

describe('reporter rate limit', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ maxDecisionsPerSecond: 10 });
    await h.createWorkflow('wf', {});
  });
  afterAll(async () => h?.close());

  it('refuses a reporter over its budget until the bucket refills', async () => {
    const a = await h.newAgent('wf');
    const send = (n: number) => {
      const msg = create(ReportDecisionsRequestSchema, { tokens: [a.token], decisions: Array.from({ length: n }, () => ({ token: 0 })) });
      return h.anomalyClient.reportDecisions(msg, { metadata: keyProofMetadata(h.payments, AnomalyService.method.reportDecisions, toBinary(ReportDecisionsRequestSchema, msg), h.clock.now()) });
    };
    expect(await send(20)).toMatchObject({ accepted: 20 }); // burst: two seconds' worth
    expect(await codeOf(send(1))).toBe('ERR_RATE_LIMITED');
    h.clock.advance(1_000);
    expect(await send(10)).toMatchObject({ accepted: 10 });
    expect(await codeOf(send(1))).toBe('ERR_RATE_LIMITED');
  });
});
