import { describe, expect, it } from 'vitest';
import { BatonError, manualClock } from '@baton/core';
import type { ErrorCode } from '@baton/core';
import { Renewer, isRetryableRenewalError } from './renewal.js';
import type { RenewerDeps } from './renewal.js';
import { manualTimers } from './testing/manual-timers.js';
import { renewalDueAt } from './token-state.js';
import type { TokenState } from './token-state.js';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

function tokenAt(receivedAtMs: number, ttlSeconds: number, over: Partial<TokenState> = {}): TokenState {
  return {
    token: `t-${receivedAtMs}`,
    jti: `j-${receivedAtMs}`,
    spiffeId: 'spiffe://baton.local/agent/o/t/iiiiiiiiiiiiiiiiiiiiii',
    audiences: ['payments'],
    scopes: [],
    jkt: 'jkt',
    ttlSeconds,
    expiresAtMs: receivedAtMs + ttlSeconds * 1000,
    taskDeadlineMs: receivedAtMs + 3_600_000,
    receivedAtMs,
    renewals: 0,
    ...over,
  };
}

function setup(opts: { ttl?: number; fail?: (attempt: number) => ErrorCode | undefined; state?: TokenState } = {}) {
  const clock = manualClock(T0);
  const timers = manualTimers(clock);
  const ttl = opts.ttl ?? 300;
  let state = opts.state ?? tokenAt(T0, ttl);
  const log = { renewCalls: [] as number[], failures: [] as { code: ErrorCode; retryAt: number | undefined }[], expired: 0, renewed: 0 };
  const deps: RenewerDeps = {
    clock,
    timers,
    renewAt: 0.75,
    retryInitialDelayMs: 1000,
    retryMaxDelayMs: 30_000,
    current: () => state,
    renew: async () => {
      log.renewCalls.push(clock.now());
      const code = opts.fail?.(log.renewCalls.length);
      if (code) throw new BatonError(code);
      state = tokenAt(clock.now(), ttl, { renewals: state.renewals + 1 });
    },
    onRenewed: () => log.renewed++,
    onFailure: (e, retryAt) => log.failures.push({ code: e.code, retryAt }),
    onExpired: () => log.expired++,
  };
  const renewer = new Renewer(deps);
  return { clock, timers, renewer, log, current: () => state };
}

/** Runs the next timer and lets the renewal promise settle. */
async function fire(timers: ReturnType<typeof manualTimers>): Promise<number | undefined> {
  const at = timers.runNext();
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return at;
}

describe('Renewer', () => {
  it('renews at 75 % of the lifetime, then again at 75 % of the new one', async () => {
    const { timers, renewer, log, current } = setup();
    renewer.schedule();
    expect(timers.pending().map((p) => p.at)).toEqual([T0 + 225_000]);
    await fire(timers);
    expect(log.renewCalls).toEqual([T0 + 225_000]);
    expect(current().renewals).toBe(1);
    expect(timers.pending().map((p) => p.at)).toEqual([T0 + 225_000 + 225_000]);
    await fire(timers);
    expect(current().renewals).toBe(2);
    expect(log.renewed).toBe(2);
  });

  it('retries a transient failure with growing backoff, always before expiry', async () => {
    const { timers, renewer, log, current } = setup({ fail: (n) => (n <= 3 ? 'ERR_UNAVAILABLE' : undefined) });
    renewer.schedule();
    await fire(timers);
    await fire(timers);
    await fire(timers);
    expect(log.failures).toHaveLength(3);
    const gaps = log.renewCalls.slice(1).map((t, i) => t - log.renewCalls[i]!);
    expect(gaps[0]).toBeGreaterThanOrEqual(500);
    expect(gaps[0]).toBeLessThanOrEqual(1000);
    expect(gaps[1]).toBeGreaterThanOrEqual(1000);
    expect(gaps[1]).toBeLessThanOrEqual(2000);
    for (const f of log.failures) expect(f.retryAt).toBeLessThan(T0 + 300_000);
    await fire(timers);
    expect(current().renewals).toBe(1);
    expect(log.expired).toBe(0);
  });

  it('keeps retrying until expiry, then reports the token expired', async () => {
    const { timers, renewer, log } = setup({ fail: () => 'ERR_UNAVAILABLE' });
    renewer.schedule();
    for (let i = 0; i < 100 && log.expired === 0; i++) await fire(timers);
    expect(log.expired).toBe(1);
    expect(log.renewCalls.every((t) => t < T0 + 300_000)).toBe(true);
    expect(log.renewCalls.length).toBeGreaterThan(3);
    expect(log.failures.at(-1)!.retryAt).toBeUndefined();
    expect(timers.pending()).toEqual([]);
  });

  it.each<ErrorCode>(['ERR_RENEWAL_LIMIT', 'ERR_TASK_DEADLINE_PASSED', 'ERR_TOKEN_RELEASED', 'ERR_TOKEN_REVOKED', 'ERR_AGENT_SUPERSEDED'])(
    'gives up at once on %s and only waits for expiry',
    async (code) => {
      const { timers, renewer, log } = setup({ fail: () => code });
      renewer.schedule();
      await fire(timers);
      expect(log.failures).toEqual([{ code, retryAt: undefined }]);
      expect(timers.pending().map((p) => p.at)).toEqual([T0 + 300_000]);
      await fire(timers);
      expect(log.expired).toBe(1);
      expect(log.renewCalls).toHaveLength(1);
    },
  );

  it('does not renew a token that already lives until the task deadline', async () => {
    const state = tokenAt(T0, 300, { taskDeadlineMs: T0 + 300_000 });
    const { timers, renewer, log } = setup({ state });
    renewer.schedule();
    expect(timers.pending().map((p) => p.at)).toEqual([T0 + 300_000]);
    await fire(timers);
    expect(log.renewCalls).toEqual([]);
    expect(log.expired).toBe(1);
  });

  it('stop() cancels the pending renewal for good', async () => {
    const { timers, renewer, log } = setup();
    renewer.schedule();
    renewer.stop();
    expect(timers.pending()).toEqual([]);
    renewer.schedule();
    expect(timers.pending()).toEqual([]);
    expect(log.renewCalls).toEqual([]);
  });

  it('classifies errors', () => {
    expect(isRetryableRenewalError(new BatonError('ERR_UNAVAILABLE'))).toBe(true);
    expect(isRetryableRenewalError(new Error('socket hang up'))).toBe(true);
    expect(isRetryableRenewalError(new BatonError('ERR_RENEWAL_LIMIT'))).toBe(false);
  });
});

describe('renewalDueAt', () => {
  it('is 75 % of the lifetime after receipt', () => {
    expect(renewalDueAt(tokenAt(T0, 300), 0.75)).toBe(T0 + 225_000);
  });
  it('renews earlier when the local clock runs behind the authority', () => {
    // Received at T0 by the local clock, but exp says the token was minted 60 s earlier.
    const s = { ...tokenAt(T0, 300), expiresAtMs: T0 + 240_000 };
    expect(renewalDueAt(s, 0.75)).toBe(T0 + 165_000);
  });
});
