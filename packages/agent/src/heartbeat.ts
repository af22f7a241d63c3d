/**
 * Heartbeats: every interval the agent tells identity it is alive and what its task is
 * doing. The authority names the interval (at registration and in each reply); the agent
 * clamps it so a bad reply can neither stop heartbeats nor spin them in a tight loop.
 */
import { BatonError, isBatonError } from '@baton/core';
import { Timer } from './timers.js';
import type { AgentTimers } from './timers.js';

/** What the agent reports its task is doing. */
export type AgentTaskState = 'active' | 'idle' | 'completing';

/** Accepted task states, for validation. */
export const AGENT_TASK_STATES: readonly AgentTaskState[] = Object.freeze(['active', 'idle', 'completing']);

const MIN_INTERVAL_SECONDS = 1;
const MAX_INTERVAL_SECONDS = 3600;

/** Bounds an interval from the authority; 0 or garbage means "use the fallback". */
export function clampInterval(seconds: number, fallbackSeconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) return fallbackSeconds;
  return Math.min(MAX_INTERVAL_SECONDS, Math.max(MIN_INTERVAL_SECONDS, Math.floor(seconds)));
}

/** What the heartbeat loop needs from the agent. */
export interface HeartbeatDeps {
  readonly timers: AgentTimers;
  readonly fallbackIntervalSeconds: number;
  /** Sends one heartbeat; resolves to the next interval the authority asks for (0: keep). */
  send(state: AgentTaskState): Promise<number>;
  onFailure(error: BatonError): void;
}

/** The heartbeat loop. Internal. */
export class Heartbeat {
  readonly #deps: HeartbeatDeps;
  readonly #timer: Timer;
  #intervalSeconds: number;
  #state: AgentTaskState = 'active';
  #stopped = true;
  #inFlight: Promise<void> | undefined;

  constructor(deps: HeartbeatDeps) {
    this.#deps = deps;
    this.#timer = new Timer(deps.timers);
    this.#intervalSeconds = deps.fallbackIntervalSeconds;
  }

  get state(): AgentTaskState {
    return this.#state;
  }

  get intervalSeconds(): number {
    return this.#intervalSeconds;
  }

  /** Starts beating every `intervalSeconds` (as named by the authority). */
  start(intervalSeconds: number): void {
    this.#intervalSeconds = clampInterval(intervalSeconds, this.#deps.fallbackIntervalSeconds);
    this.#stopped = false;
    this.#arm();
  }

  /** Records the task state; it goes out with the next heartbeat. */
  setState(state: AgentTaskState): void {
    this.#state = state;
  }

  /** Sends one heartbeat now (used on state changes callers want seen at once). */
  async beat(): Promise<void> {
    if (this.#stopped) return;
    if (this.#inFlight) return this.#inFlight;
    this.#inFlight = (async () => {
      try {
        const next = await this.#deps.send(this.#state);
        this.#intervalSeconds = clampInterval(next, this.#intervalSeconds);
      } catch (err) {
        // A missed heartbeat is the authority's signal; the agent keeps trying.
        if (!this.#stopped) this.#deps.onFailure(isBatonError(err) ? err : new BatonError('ERR_UNAVAILABLE', 'heartbeat failed'));
      } finally {
        this.#inFlight = undefined;
      }
    })();
    return this.#inFlight;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer.cancel();
  }

  #arm(): void {
    if (this.#stopped) return;
    this.#timer.set(() => {
      void this.beat().then(() => this.#arm());
    }, this.#intervalSeconds * 1000);
  }
}
