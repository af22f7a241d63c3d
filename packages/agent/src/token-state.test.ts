import { describe, expect, it } from 'vitest';
import { BatonError, generateKeyPair, manualClock, randomId, signJws } from '@baton/core';
import { readTokenState } from './token-state.js';

const T0 = Date.UTC(2030, 0, 1, 12);
const issuerKey = generateKeyPair();
const holder = generateKeyPair();

function claims(over: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(T0 / 1000);
  return {
    iss: 'spiffe://baton.local/authority',
    sub: `spiffe://baton.local/agent/orch-1/task-1/${randomId(16)}`,
    aud: ['payments', 'spiffe://baton.local/authority'],
    exp: now + 300,
    iat: now,
    nbf: now,
    jti: randomId(16),
    scope: 'approve:payments read:invoices',
    task_id: 'task-1',
    orch_id: 'orch-1',
    wf: 'expense-approval',
    principal: 'user:vp@acme.example',
    iid: randomId(16),
    tdl: now + 3600,
    rnw: 2,
    cnf: { jkt: holder.thumbprint },
    ...over,
  };
}

const mint = (over?: Record<string, unknown>) => signJws({ typ: 'at+jwt', kid: issuerKey.thumbprint }, claims(over), issuerKey.privateKey);

describe('readTokenState', () => {
  it('reads what the agent needs from its token', () => {
    const s = readTokenState(mint(), manualClock(T0 + 500));
    expect(s.ttlSeconds).toBe(300);
    expect(s.expiresAtMs).toBe(T0 + 300_000);
    expect(s.taskDeadlineMs).toBe(T0 + 3_600_000);
    expect(s.receivedAtMs).toBe(T0 + 500);
    expect(s.jkt).toBe(holder.thumbprint);
    expect(s.renewals).toBe(2);
    expect(s.audiences).toEqual(['payments', 'spiffe://baton.local/authority']);
    expect(s.scopes.map((x) => `${x.action}:${x.resource}`)).toEqual(['approve:payments', 'read:invoices']);
    expect(Object.isFrozen(s)).toBe(true);
  });

  it.each([
    ['not a JWS', 'garbage'],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims())).toString('base64url')}.`],
    ['no cnf', mint({ cnf: undefined })],
    ['sub not SPIFFE', mint({ sub: 'agent-1' })],
    ['exp not an integer', mint({ exp: 'soon' })],
  ])('refuses a token that is %s with ERR_TOKEN_MALFORMED', (_name, token) => {
    let err: unknown;
    try {
      readTokenState(token, manualClock(T0));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BatonError);
    expect((err as BatonError).code).toBe('ERR_TOKEN_MALFORMED');
  });
});
