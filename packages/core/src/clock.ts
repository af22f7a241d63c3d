/**
 * Injected time. Everything in Baton that depends on "now" takes a Clock (or a `nowMs`)
 * so tests travel in time instead of sleeping.
 */

/** A source of the current time in milliseconds since the Unix epoch. */
export interface Clock {
  now(): number;
}

/** A {@link Clock} that tests move by hand. */
export interface ManualClock extends Clock {
  /** Jumps to `ms` (may go backwards, to simulate skew). */
  set(ms: number): void;
  /** Moves by `ms` (negative moves back). */
  advance(ms: number): void;
}

/** The wall clock (`Date.now()`). */
export const systemClock: Clock = Object.freeze({ now: () => Date.now() });

function assertFiniteMs(ms: number, what: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) throw new TypeError(`${what} must be a finite number of milliseconds`);
}

/**
 * A clock that only moves when told to.
 *
 * @example
 * const clock = manualClock(Date.UTC(2030, 0, 1));
 * clock.advance(31_000); // 31 s later
 */
export function manualClock(startMs: number): ManualClock {
  assertFiniteMs(startMs, 'startMs');
  let t = startMs;
  return {
    now: () => t,
    set(ms: number) {
      assertFiniteMs(ms, 'ms');
      t = ms;
    },
    advance(ms: number) {
      assertFiniteMs(ms, 'ms');
      t += ms;
    },
  };
}

/** The clock's time as a JWT NumericDate: whole seconds, rounded down. */
export function nowSeconds(clock: Clock): number {
  return Math.floor(clock.now() / 1000);
}
