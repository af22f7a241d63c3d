import type { AccessTokenClaims, ErrorCode } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { RevocationState, describeMatch, type RevocationRecord } from './revocation-state.js';

const NOW = 2_000_000_000;
const claims = (over: Partial<AccessTokenClaims> = {}): AccessTokenClaims => ({
  iss: 'spiffe://baton.local/authority',
  sub: 'spiffe://baton.local/agent/orch-1/task-1/AAAAAAAAAAAAAAAAAAAAAA',
  aud: ['payments'],
  exp: NOW + 300,
  iat: NOW - 10,
  nbf: NOW - 10,
  jti: 'jti-0000000000000000000001',
  scope: 'read:invoice',
  task_id: 'task-1',
  orch_id: 'orch-1',
  wf: 'invoices',
  principal: 'user:vp@acme.example',
  iid: 'AAAAAAAAAAAAAAAAAAAAAA',
  tdl: NOW + 3600,
  rnw: 0,
  cnf: { jkt: 'x'.repeat(43) },
  ...over,
});

let seq = 0n;
const rec = (over: Partial<RevocationRecord>): RevocationRecord => ({
  sequence: ++seq,
  level: 'token',
  target: 'nothing',
  reason: 'manual',
  createdAt: NOW - 5,
  expiresAt: NOW + 300,
  notAfterIat: 0,
  ...over,
});

describe('RevocationState', () => {
  const c = claims();
  it.each<[string, Partial<RevocationRecord>, ErrorCode | undefined]>([
    ['token by jti', { level: 'token', target: c.jti }, 'ERR_TOKEN_REVOKED'],
    ['token renewed away', { level: 'token', target: c.jti, reason: 'renewed' }, 'ERR_TOKEN_REVOKED'],
    ['agent by SPIFFE id', { level: 'agent', target: c.sub }, 'ERR_TOKEN_REVOKED'],
    ['agent released', { level: 'agent', target: c.sub, reason: 'released' }, 'ERR_TOKEN_RELEASED'],
    ['agent superseded', { level: 'agent', target: c.sub, reason: 'superseded' }, 'ERR_TOKEN_REVOKED'],
    ['task by orch/task', { level: 'task', target: 'orch-1/task-1' }, 'ERR_TOKEN_REVOKED'],
    ['workflow', { level: 'workflow', target: 'invoices' }, 'ERR_TOKEN_REVOKED'],
    ['signing key', { level: 'key', target: 'kid-1' }, 'ERR_TOKEN_KEY_REVOKED'],
    ['hop', { level: 'hop', target: 'hop-b' }, 'ERR_CHAIN_REVOKED'],
    ['another jti', { level: 'token', target: 'other' }, undefined],
    ['task id alone does not match', { level: 'task', target: 'task-1' }, undefined],
    ['agent revoked before this token was issued (iat > not_after_iat)', { level: 'agent', target: c.sub, notAfterIat: NOW - 11 }, undefined],
    ['agent revoked after this token was issued', { level: 'agent', target: c.sub, notAfterIat: NOW - 10 }, 'ERR_TOKEN_REVOKED'],
    ['key revocations ignore iat', { level: 'key', target: 'kid-1', notAfterIat: NOW - 1000 }, 'ERR_TOKEN_KEY_REVOKED'],
    ['expired entry', { level: 'token', target: c.jti, expiresAt: NOW - 1 }, undefined],
  ])('%s → %s', (_n, over, code) => {
    const s = new RevocationState();
    s.add(rec(over), NOW - 100); // added while live, so expiry is judged at match time
    expect(s.match(c, { kid: 'kid-1', hopHashes: ['hop-a', 'hop-b'] }, NOW)?.code).toBe(code);
  });

  it('prefers a revocation over a release when both match', () => {
    const s = new RevocationState();
    s.add(rec({ level: 'agent', target: c.sub, reason: 'released' }), NOW);
    s.add(rec({ level: 'task', target: 'orch-1/task-1', reason: 'anomaly' }), NOW);
    const m = s.match(c, undefined, NOW)!;
    expect(m.code).toBe('ERR_TOKEN_REVOKED');
    expect(describeMatch(m)).toContain('task orch-1/task-1');
  });

  it('checks the AGENT level for every delegating agent of a chain', () => {
    const s = new RevocationState();
    const parent = 'spiffe://baton.local/agent/orch-1/task-0/BBBBBBBBBBBBBBBBBBBBBB';
    s.add(rec({ level: 'agent', target: parent }), NOW);
    expect(s.match(c, undefined, NOW)).toBeUndefined();
    expect(s.match(c, { agents: [parent] }, NOW)?.code).toBe('ERR_TOKEN_REVOKED');
  });

  it('is idempotent by sequence and refuses already-expired entries', () => {
    const s = new RevocationState();
    const r = rec({ level: 'token', target: c.jti });
    expect(s.add(r, NOW)).toBe(true);
    expect(s.add(r, NOW)).toBe(false);
    expect(s.add({ ...r, target: 'changed' }, NOW)).toBe(false);
    expect(s.add(rec({ expiresAt: NOW - 1 }), NOW)).toBe(false);
    expect(s.size).toBe(1);
    expect(s.records().map((x) => x.target)).toEqual([c.jti]);
  });

  it('prunes by expiry in order and keeps memory flat under churn', () => {
    const s = new RevocationState();
    for (let i = 0; i < 10_000; i++) s.add(rec({ target: `t${i}`, expiresAt: NOW + (i % 100) }), NOW);
    expect(s.size).toBe(10_000);
    expect(s.prune(NOW + 50)).toBe(5_000);
    expect(s.size).toBe(5_000);
    expect(s.match(claims({ jti: 't149' }), undefined, NOW)).toBeUndefined(); // expiresAt NOW+49: pruned
    expect(s.match(claims({ jti: 't150' }), undefined, NOW)?.code).toBe('ERR_TOKEN_REVOKED');
    expect(s.prune(NOW + 1000)).toBe(5_000);
    expect(s.size).toBe(0);
    expect(s.match(claims({ jti: 't150' }), undefined, NOW)).toBeUndefined();
  });

  it('keeps other entries for the same target when one is pruned', () => {
    const s = new RevocationState();
    s.add(rec({ level: 'agent', target: c.sub, expiresAt: NOW + 10 }), NOW);
    s.add(rec({ level: 'agent', target: c.sub, expiresAt: NOW + 500, reason: 'released' }), NOW);
    s.prune(NOW + 20);
    expect(s.size).toBe(1);
    expect(s.match(c, undefined, NOW + 20)?.code).toBe('ERR_TOKEN_RELEASED');
  });
});
