/**
 * The timer functions the agent schedules renewals and heartbeats with. Injected so tests
 * move time by hand; the default never keeps the process alive on its own.
 */

/** Minimal timer interface (a subset of the Node globals). */
export interface AgentTimers {
  /** Runs `callback` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Global timers, looked up at call time (so test fake timers apply) and unref'd: a
 * pending renewal must not stop a finished program from exiting.
 */
export const systemTimers: AgentTimers = Object.freeze({
  setTimeout(callback: () => void, ms: number): unknown {
    const handle = globalThis.setTimeout(callback, ms);
    (handle as { unref?: () => void }).unref?.();
    return handle;
  },
  clearTimeout(handle: unknown): void {
    globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>);
  },
});

/** One pending timer, replaced or cancelled as a unit. */
export class Timer {
  readonly #timers: AgentTimers;
  #handle: unknown;
  #armed = false;

  constructor(timers: AgentTimers) {
    this.#timers = timers;
  }

  /** (Re)arms the timer; any pending run is cancelled first. */
  set(callback: () => void, ms: number): void {
    this.cancel();
    this.#armed = true;
    this.#handle = this.#timers.setTimeout(() => {
      this.#armed = false;
      callback();
    }, Math.max(0, Math.ceil(ms)));
  }

  cancel(): void {
    if (this.#armed) this.#timers.clearTimeout(this.#handle);
    this.#armed = false;
    this.#handle = undefined;
  }

  get armed(): boolean {
    return this.#armed;
  }
}
