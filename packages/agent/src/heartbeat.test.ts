import { describe, expect, it } from 'vitest';
import { BatonError, manualClock } from '@baton/core';
import type { ErrorCode } from '@baton/core';
import { Heartbeat, clampInterval } from './heartbeat.js';
import type { AgentTaskState } from './heartbeat.js';
import { manualTimers } from './testing/manual-timers.js';

const T0 = Date.UTC(2030, 0, 1);

async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

function setup(reply: (n: number) => number | ErrorCode) {
  const clock = manualClock(T0);
  const timers = manualTimers(clock);
  const sent: { at: number; state: AgentTaskState }[] = [];
  const failures: ErrorCode[] = [];
  const hb = new Heartbeat({
    timers,
    fallbackIntervalSeconds: 30,
    send: async (state) => {
      sent.push({ at: clock.now() - T0, state });
      const r = reply(sent.length);
      if (typeof r === 'string') throw new BatonError(r);
      return r;
    },
    onFailure: (e) => failures.push(e.code),
  });
  return { timers, hb, sent, failures };
}

describe('Heartbeat', () => {
  it('beats at the interval the authority names, with the current task state', async () => {
    const { timers, hb, sent } = setup(() => 0);
    hb.start(10);
    timers.runNext();
    await settle();
    hb.setState('completing');
    timers.runNext();
    await settle();
    expect(sent).toEqual([
      { at: 10_000, state: 'active' },
      { at: 20_000, state: 'completing' },
    ]);
  });

  it('follows next_interval_seconds from each reply', async () => {
    const { timers, hb, sent } = setup((n) => (n === 1 ? 5 : 0));
    hb.start(30);
    timers.runNext();
    await settle();
    timers.runNext();
    await settle();
    expect(sent.map((s) => s.at)).toEqual([30_000, 35_000]);
    expect(hb.intervalSeconds).toBe(5);
  });

  it('reports a failed heartbeat and keeps beating', async () => {
    const { timers, hb, sent, failures } = setup((n) => (n === 1 ? 'ERR_UNAVAILABLE' : 0));
    hb.start(30);
    timers.runNext();
    await settle();
    timers.runNext();
    await settle();
    expect(failures).toEqual(['ERR_UNAVAILABLE']);
    expect(sent).toHaveLength(2);
  });

  it('stop() ends the loop', async () => {
    const { timers, hb, sent } = setup(() => 0);
    hb.start(30);
    hb.stop();
    expect(timers.pending()).toEqual([]);
    await hb.beat();
    expect(sent).toEqual([]);
  });
});

describe('clampInterval', () => {
  it.each([
    [0, 30],
    [-5, 30],
    [Number.NaN, 30],
    [Number.POSITIVE_INFINITY, 30],
    [0.2, 1],
    [12.9, 12],
    [1e9, 3600],
  ])('%d → %d', (input, out) => {
    expect(clampInterval(input, 30)).toBe(out);
  });
});
