/**
 * Test helper: timers that fire only when the test says so, tied to a manual clock, so
 * renewal and heartbeat schedules are asserted without sleeping.
 */
import type { ManualClock } from '@baton/core';
import type { AgentTimers } from '../timers.js';

interface Pending {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Manual timers plus inspection and control. */
export interface ManualTimers extends AgentTimers {
  /** Pending timers, soonest first (`at` is clock ms). */
  pending(): readonly { id: number; at: number }[];
  /** Moves the clock to the soonest timer and runs it; returns its time, or undefined. */
  runNext(): number | undefined;
  /** Advances the clock by `ms`, running every timer due on the way, in order. */
  advance(ms: number): void;
}

/** Timers driven by `clock`. */
export function manualTimers(clock: ManualClock): ManualTimers {
  let nextId = 1;
  const timers = new Map<number, Pending>();
  const sorted = () => [...timers.values()].sort((a, b) => a.at - b.at || a.id - b.id);
  return {
    setTimeout(callback, ms) {
      const id = nextId++;
      timers.set(id, { id, at: clock.now() + Math.max(0, ms), callback });
      return id;
    },
    clearTimeout(handle) {
      timers.delete(handle as number);
    },
    pending: () => sorted().map(({ id, at }) => ({ id, at })),
    runNext() {
      const t = sorted()[0];
      if (!t) return undefined;
      timers.delete(t.id);
      if (t.at > clock.now()) clock.set(t.at);
      t.callback();
      return t.at;
    },
    advance(ms) {
      const end = clock.now() + ms;
      for (;;) {
        const t = sorted()[0];
        if (!t || t.at > end) break;
        timers.delete(t.id);
        if (t.at > clock.now()) clock.set(t.at);
        t.callback();
      }
      clock.set(end);
    },
  };
}
