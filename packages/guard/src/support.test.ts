import { generateKeyPair, sha256B64url, verifyProof, ReplayCache, decodeJws } from '@baton/core';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { describe, expect, it } from 'vitest';
import { auditDecisions, decisionAuditRecord } from './audit-decisions.js';
import type { AllowDecision, DecisionInfo } from './decision.js';
import { LruMap } from './lru.js';
import { dpopMetadata, keyProofMetadata, methodPathOf } from './proof-metadata.js';
import { fixture } from './testing/fixtures.js';

describe('LruMap', () => {
  it('evicts the least recently used entry and stays bounded', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    expect(m.get('a')).toBe(1); // a is now most recent
    m.set('c', 3);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe(1);
    expect(m.size).toBe(2);
    const off = new LruMap<string, number>(0);
    off.set('a', 1);
    expect(off.size).toBe(0);
    expect(() => new LruMap(-1)).toThrow(TypeError);
  });
});

describe('proof metadata helpers', () => {
  it('names methods by path or descriptor, and refuses anything else', () => {
    expect(methodPathOf(IssuerService.method.renew)).toBe('/baton.issuer.v1.IssuerService/Renew');
    expect(methodPathOf('/baton.issuer.v1.IssuerService/Renew')).toBe('/baton.issuer.v1.IssuerService/Renew');
    expect(() => methodPathOf('https://evil/x')).toThrow(TypeError);
  });

  it('dpopMetadata binds the proof to the token and method; keyProofMetadata to the request bytes', () => {
    const kp = generateKeyPair();
    const token = fixture().mint();
    const md = dpopMetadata(kp, token, IssuerService.method.renew);
    expect(md.authorization).toBe(`DPoP ${token}`);
    const htu = '/baton.issuer.v1.IssuerService/Renew';
    const v = verifyProof(md.dpop, { htm: 'POST', htu, nowMs: Date.now(), accessTokenHash: sha256B64url(token), expectedJkt: kp.thumbprint, replayCache: new ReplayCache() });
    expect(v.claims.ath).toBe(sha256B64url(token));

    const bytes = new Uint8Array([1, 2, 3]);
    const kmd = keyProofMetadata(kp, htu, bytes);
    expect(Object.keys(kmd)).toEqual(['baton-proof']);
    expect(decodeJws(kmd['baton-proof']).payload).toMatchObject({ htm: 'POST', htu, rh: sha256B64url(bytes) });
    expect(() => keyProofMetadata(kp, htu, 'abc' as never)).toThrow(TypeError);
    expect(() => dpopMetadata(kp, '', htu)).toThrow(TypeError);
  });
});

describe('auditDecisions', () => {
  const f = fixture();
  const claims = decodeJws(f.mint()).payload as never;
  const info: DecisionInfo = { htm: 'POST', htu: '/x/Y', request: { action: 'read', resource: 'invoice' }, claims, durationMs: 0.1 };

  it('records denials with the precise reason and allows with depth and agents', () => {
    const deny = decisionAuditRecord({ allow: false, code: 'ERR_CONSTRAINT_VIOLATED', reason: 'amount 6000 exceeds max 5000' }, info, 'guard:payments');
    expect(deny).toMatchObject({
      type: 'validation.denied',
      outcome: 'deny',
      source: 'guard:payments',
      reasonCode: 'ERR_CONSTRAINT_VIOLATED',
      reasonDetail: 'amount 6000 exceeds max 5000',
      action: 'read',
      resource: 'invoice',
      workflow: 'invoices',
    });
    const allow: AllowDecision = { allow: true, claims, kid: 'k', scopes: [], subject: 's', principal: 'p', depth: 2, agents: ['a', 'b'], bearer: true };
    expect(decisionAuditRecord(allow, { ...info, chainHash: 'ch' })).toMatchObject({
      type: 'validation.allowed',
      delegationDepth: 2,
      intermediateAgents: ['a', 'b'],
      chainHash: 'ch',
      attributes: { bearer: 'true' },
    });
  });

  it('never throws into the request path when the sink fails', async () => {
    const emitted: unknown[] = [];
    const hook = auditDecisions({ emit: async (r) => void emitted.push(r) });
    hook({ allow: false, code: 'ERR_TOKEN_EXPIRED', reason: 'x' }, info);
    expect(emitted).toHaveLength(1);
    const failing = auditDecisions({ emit: () => Promise.reject(new Error('down')) });
    expect(() => failing({ allow: false, code: 'ERR_TOKEN_EXPIRED', reason: 'x' }, info)).not.toThrow();
    expect(() => auditDecisions({} as never)).toThrow(TypeError);
  });
});
