import { describe, expect, it } from 'vitest';
import { toBinary } from '@bufbuild/protobuf';
import { BatonError, b64urlDecode, generateKeyPair, manualClock, sha256B64url, type AccessTokenClaims } from '@baton/core';
import type { Decision, DecisionInfo } from '@baton/guard';
import type { Client } from '@baton/proto';
import { ReportDecisionsRequestSchema, type AnomalyService, type ReportDecisionsRequest } from '@baton/proto/baton/anomaly/v1/anomaly_pb.js';
import { createDecisionReporter } from './decision-reporter.js';
import { requestFromProto } from './reported-request.js';

const claims = { sub: 'spiffe://baton.local/agent/o/t/AAAAAAAAAAAAAAAAAAAAAA', wf: 'wf' } as AccessTokenClaims;
const deny = (code: 'ERR_SCOPE_DENIED' | 'ERR_PROOF_REPLAYED'): Decision => ({ allow: false, code, reason: 'r' });
const allow = { allow: true } as Decision;
const info = (token: string | undefined, over: Partial<DecisionInfo> = {}): DecisionInfo => ({ htm: 'POST', htu: '/a/B', durationMs: 1, claims, token, ...over });

function fakeClient(fail = 0) {
  const sent: { req: ReportDecisionsRequest; proof: string }[] = [];
  let failures = fail;
  const client = {
    async reportDecisions(req: ReportDecisionsRequest, opts: { metadata: Record<string, string> }) {
      if (failures-- > 0) throw new BatonError('ERR_UNAVAILABLE', 'down');
      sent.push({ req, proof: opts.metadata['baton-proof']! });
      return { accepted: req.decisions.length, rejected: 0, revocations: 0 };
    },
  } as unknown as Client<typeof AnomalyService>;
  return { client, sent };
}

describe('createDecisionReporter', () => {
  it('batches decisions, lists each token once, keeps the request of denials, signs the exact bytes', async () => {
    const { client, sent } = fakeClient();
    const key = generateKeyPair();
    const r = createDecisionReporter({ client, key, clock: manualClock(1_000), flushIntervalMs: 3_600_000 });
    r.onDecision(deny('ERR_SCOPE_DENIED'), info('tok-a', { request: { action: 'approve', resource: 'invoice', id: 'i-1', attributes: { amount: 9000, cur: 'EUR', ok: true } } }));
    r.onDecision(allow, info('tok-b', { request: { action: 'read', resource: 'invoice' } }));
    r.onDecision(deny('ERR_PROOF_REPLAYED'), info('tok-a'));
    await r.flush();
    expect(sent).toHaveLength(1);
    const { req, proof } = sent[0]!;
    expect(req.tokens).toEqual(['tok-a', 'tok-b']);
    expect(req.decisions.map((d) => [d.token, d.code])).toEqual([
      [0, 'ERR_SCOPE_DENIED'],
      [1, ''],
      [0, 'ERR_PROOF_REPLAYED'],
    ]);
    expect(requestFromProto(req.decisions[0]!.request)).toEqual({ action: 'approve', resource: 'invoice', id: 'i-1', attributes: { amount: 9000, cur: 'EUR', ok: true } });
    expect(req.decisions[1]!.request).toBeUndefined(); // allows carry no request
    const payload = JSON.parse(b64urlDecode(proof.split('.')[1]!).toString('utf8')) as { htu: string; rh: string };
    expect(payload.htu).toBe('/baton.anomaly.v1.AnomalyService/ReportDecisions');
    expect(payload.rh).toBe(sha256B64url(toBinary(ReportDecisionsRequestSchema, req)));
    expect(r.stats).toEqual({ sent: 3, dropped: 0, failedBatches: 0 });
    await r.close();
  });

  it('reports only decisions about tokens whose signature verified', async () => {
    const { client, sent } = fakeClient();
    const r = createDecisionReporter({ client, key: generateKeyPair(), flushIntervalMs: 3_600_000 });
    r.onDecision(deny('ERR_SCOPE_DENIED'), info(undefined));
    r.onDecision(deny('ERR_SCOPE_DENIED'), info('tok', { claims: undefined }));
    await r.close();
    expect(sent).toHaveLength(0);
  });

  it('splits batches by size and by distinct tokens', async () => {
    const { client, sent } = fakeClient();
    const r = createDecisionReporter({ client, key: generateKeyPair(), flushIntervalMs: 3_600_000, maxBatch: 4, maxBatchTokens: 2, maxQueue: 100 });
    for (let i = 0; i < 3; i++) r.onDecision(allow, info(`t${i}`));
    for (let i = 0; i < 3; i++) r.onDecision(allow, info('t2'));
    await r.close();
    expect(sent.map((s) => [s.req.tokens.length, s.req.decisions.length])).toEqual([
      [2, 2],
      [1, 4],
    ]);
  });

  it('bounds its queue and drops batches it cannot send (counted, never retried without bound)', async () => {
    const { client, sent } = fakeClient(1);
    const errors: unknown[] = [];
    const r = createDecisionReporter({ client, key: generateKeyPair(), flushIntervalMs: 3_600_000, maxBatch: 10, maxQueue: 5, onError: (e) => errors.push(e) });
    for (let i = 0; i < 8; i++) r.onDecision(allow, info('t'));
    expect(r.stats.dropped).toBe(3);
    await r.flush(); // fails: 5 dropped
    r.onDecision(allow, info('t'));
    await r.close();
    expect(r.stats).toEqual({ sent: 1, dropped: 8, failedBatches: 1 });
    expect(sent).toHaveLength(1);
    expect(errors).toHaveLength(1);
  });

  it('refuses bad options', () => {
    expect(() => createDecisionReporter({} as never)).toThrow(TypeError);
    expect(() => createDecisionReporter({ client: fakeClient().client, key: generateKeyPair(), maxBatch: 0 })).toThrow(TypeError);
  });
});
