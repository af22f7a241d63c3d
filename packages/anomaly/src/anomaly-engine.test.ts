import { describe, expect, it } from 'vitest';
import { manualClock } from '@baton/core';
import { createAnomalyEngine, type ObservedToken } from './anomaly-engine.js';
import { MinuteRate, RecentEvents } from './event-window.js';
import type { AnomalyRules } from './rules.js';

const OFF = { count: 0, windowSeconds: 0 };
const NONE: AnomalyRules = { scopeDenials: OFF, releasedTokenUse: false, proofFailures: OFF, maxRequestsPerMinute: 0 };

function token(n: number, over: Partial<ObservedToken> = {}): ObservedToken {
  return {
    sub: `spiffe://baton.local/agent/orch-1/task-1/agent${String(n).padStart(17, '0')}`,
    jti: `jti-${String(n).padStart(20, '0')}`,
    wf: 'invoices',
    orch_id: 'orch-1',
    task_id: 'task-1',
    principal: 'user:vp@acme.example',
    exp: 2_000_000_000,
    ...over,
  };
}

function setup(rules: Partial<AnomalyRules>, wf = 'invoices') {
  const clock = manualClock(1_700_000_000_000);
  const engine = createAnomalyEngine({ clock, rulesFor: (id) => (id === wf ? { ...NONE, ...rules } : undefined) });
  return { clock, engine };
}

describe('createAnomalyEngine', () => {
  it('revokes the agent after N scope denials within the window, once', async () => {
    const { clock, engine } = setup({ scopeDenials: { count: 3, windowSeconds: 60 } });
    const t = token(1);
    expect(await engine.observe({ token: t, code: 'ERR_SCOPE_DENIED' })).toEqual([]);
    clock.advance(20_000);
    expect(await engine.observe({ token: t, code: 'ERR_CONSTRAINT_VIOLATED' })).toEqual([]);
    clock.advance(20_000);
    const [action, ...rest] = await engine.observe({ token: t, code: 'ERR_SCOPE_DENIED' });
    expect(rest).toEqual([]);
    expect(action).toMatchObject({ rule: 'scope_denials', level: 'agent', target: t.sub });
    // Acted on: more denials (in flight before the revocation landed) do not act again.
    for (let i = 0; i < 5; i++) expect(await engine.observe({ token: t, code: 'ERR_SCOPE_DENIED' })).toEqual([]);
  });

  it('does not count denials that fall out of the window, other codes, or other agents', async () => {
    const { clock, engine } = setup({ scopeDenials: { count: 3, windowSeconds: 60 } });
    const t = token(1);
    await engine.observe({ token: t, code: 'ERR_SCOPE_DENIED' });
    clock.advance(30_000);
    await engine.observe({ token: t, code: 'ERR_SCOPE_DENIED' });
    clock.advance(30_000); // the first is now exactly 60 s old: outside
    expect(await engine.observe({ token: t, code: 'ERR_SCOPE_DENIED' })).toEqual([]);
    // Allows, expiry and other denials are not scope denials.
    for (const code of [undefined, 'ERR_TOKEN_EXPIRED', 'ERR_PROOF_REPLAYED', 'ERR_TOKEN_REVOKED']) {
      expect(await engine.observe({ token: t, code })).toEqual([]);
    }
    // Two other agents each at 2: nobody reaches 3.
    for (const other of [token(2), token(3)]) {
      await engine.observe({ token: other, code: 'ERR_SCOPE_DENIED' });
      expect(await engine.observe({ token: other, code: 'ERR_SCOPE_DENIED' })).toEqual([]);
    }
    // The third denial within 60 s of the second one counts.
    clock.advance(1_000);
    expect(await engine.observe({ token: t, code: 'ERR_SCOPE_DENIED' })).toHaveLength(1);
  });

  it('revokes the task on any use of a released token', async () => {
    const { engine } = setup({ releasedTokenUse: true });
    const t = token(1, { orch_id: 'orch-9', task_id: 'task-42' });
    const actions = await engine.observe({ token: t, code: 'ERR_TOKEN_RELEASED' });
    expect(actions).toEqual([expect.objectContaining({ rule: 'released_token_use', level: 'task', target: 'orch-9/task-42' })]);
    expect(await engine.observe({ token: token(2, { orch_id: 'orch-9', task_id: 'task-42' }), code: 'ERR_TOKEN_RELEASED' })).toEqual([]);
  });

  it('revokes one token after repeated proof failures for it', async () => {
    const { clock, engine } = setup({ proofFailures: { count: 2, windowSeconds: 10 } });
    const a = token(1);
    const b = token(1, { jti: 'jti-bbbbbbbbbbbbbbbbbbbb' }); // same agent, another token
    expect(await engine.observe({ token: a, code: 'ERR_PROOF_SIGNATURE_INVALID' })).toEqual([]);
    expect(await engine.observe({ token: b, code: 'ERR_PROOF_KEY_MISMATCH' })).toEqual([]);
    clock.advance(5_000);
    const actions = await engine.observe({ token: a, code: 'ERR_CERT_BINDING_MISMATCH' });
    expect(actions).toEqual([expect.objectContaining({ rule: 'proof_failures', level: 'token', target: a.jti })]);
    clock.advance(10_000);
    expect(await engine.observe({ token: b, code: 'ERR_PROOF_MISSING' })).toEqual([]); // b's first is 15 s old
  });

  it('revokes an agent whose request rate exceeds the workflow budget', async () => {
    const { clock, engine } = setup({ maxRequestsPerMinute: 10 });
    const t = token(1);
    for (let i = 0; i < 10; i++) {
      expect(await engine.observe({ token: t, code: i % 2 ? undefined : 'ERR_SCOPE_DENIED' })).toEqual([]);
      clock.advance(5_000);
    }
    // 10 in the last 50 s; a minute later the old ones are gone.
    clock.advance(60_000);
    for (let i = 0; i < 10; i++) expect(await engine.observe({ token: t })).toEqual([]);
    const actions = await engine.observe({ token: t });
    expect(actions).toEqual([expect.objectContaining({ rule: 'request_rate', level: 'agent', target: t.sub })]);
  });

  it('tracks nothing for workflows without rules or when rules cannot be read', async () => {
    const clock = manualClock(0);
    let calls = 0;
    const engine = createAnomalyEngine({
      clock,
      rulesFor: async (wf) => {
        calls++;
        if (wf === 'broken') throw new Error('identity down');
        return undefined;
      },
    });
    for (const wf of ['payroll', 'broken']) {
      for (let i = 0; i < 20; i++) expect(await engine.observe({ token: token(i, { wf }), code: 'ERR_SCOPE_DENIED' })).toEqual([]);
    }
    expect(calls).toBe(40);
    expect(engine.trackedKeys).toBe(0);
  });

  it('can act on a target again after forgetAction (its revocation failed)', async () => {
    const { engine } = setup({ releasedTokenUse: true });
    const [a] = await engine.observe({ token: token(1), code: 'ERR_TOKEN_RELEASED' });
    expect(await engine.observe({ token: token(1), code: 'ERR_TOKEN_RELEASED' })).toEqual([]);
    engine.forgetAction(a!);
    expect(await engine.observe({ token: token(1), code: 'ERR_TOKEN_RELEASED' })).toHaveLength(1);
  });

  it('keeps state bounded by maxTrackedKeys under churn', async () => {
    const clock = manualClock(0);
    const rules: AnomalyRules = { ...NONE, scopeDenials: { count: 5, windowSeconds: 60 }, maxRequestsPerMinute: 100 };
    const engine = createAnomalyEngine({ clock, rulesFor: () => rules, maxTrackedKeys: 50 });
    for (let i = 0; i < 5000; i++) await engine.observe({ token: token(i), code: 'ERR_SCOPE_DENIED' });
    expect(engine.trackedKeys).toBeLessThanOrEqual(100);
  });

  it('refuses bad options', () => {
    expect(() => createAnomalyEngine({} as never)).toThrow(TypeError);
    expect(() => createAnomalyEngine({ rulesFor: () => undefined, maxTrackedKeys: 0 })).toThrow(TypeError);
  });
});

describe('event windows', () => {
  it('RecentEvents answers "count events within the window" exactly', () => {
    const w = new RecentEvents(10);
    expect(w.hit('k', 0, 3, 1000)).toBe(false);
    expect(w.hit('k', 500, 3, 1000)).toBe(false);
    expect(w.hit('k', 1000, 3, 1000)).toBe(false); // first is 1000 ms old: outside
    expect(w.hit('k', 1200, 3, 1000)).toBe(true); // 500, 1000, 1200
  });

  it('MinuteRate counts the last 60 s in one-second steps and ignores events older than that', () => {
    const r = new MinuteRate(10);
    for (let s = 0; s < 60; s++) r.hit('k', s * 1000);
    expect(r.hit('k', 59_500)).toBe(61);
    expect(r.hit('k', 60_000)).toBe(61); // second 0 dropped, second 60 added
    expect(r.hit('k', 1_000)).toBe(62); // 59 s old: still inside, counted
    expect(r.hit('k', 0)).toBe(62); // 60 s old: outside, not counted
    expect(r.hit('k', 200_000)).toBe(1); // long quiet: everything else expired
  });

  it('with a clock, a key whose window passed without events is dropped, freeing its memory', () => {
    const clock = manualClock(1_000_000);
    const w = new RecentEvents(100, clock);
    const r = new MinuteRate(100, clock);
    for (let i = 0; i < 50; i++) {
      w.hit(`agent-${i}`, clock.now(), 3, 10_000);
      r.hit(`agent-${i}`, clock.now());
    }
    expect([w.size, r.size]).toEqual([50, 50]);
    clock.advance(9_000);
    w.hit('agent-0', clock.now(), 3, 10_000); // keeps agent-0 alive
    r.hit('agent-0', clock.now());
    clock.advance(2_000); // 11 s: the other windows passed; the rate minute has not
    w.hit('other', clock.now(), 3, 10_000); // any use sweeps
    expect(w.size).toBe(2);
    expect(w.hit('agent-0', clock.now(), 3, 10_000)).toBe(false); // two events within 10 s, not three
    expect(w.hit('agent-0', clock.now(), 3, 10_000)).toBe(true);
    expect(w.hit('agent-1', clock.now(), 3, 10_000)).toBe(false); // starts afresh
    expect(r.size).toBe(50);
    clock.advance(60_000);
    expect(r.hit('agent-2', clock.now())).toBe(1);
    expect(r.size).toBe(1);
  });
});
