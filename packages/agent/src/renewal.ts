/**
 * Automatic renewal: one timer at `renewAt` of the current token's lifetime; on failure,
 * retries with capped exponential backoff until the token expires or the failure is one
 * no retry can fix (renewal limit, task deadline, token revoked or released).
 */
import { randomInt } from 'node:crypto';
import { BatonError, isBatonError } from '@baton/core';
import type { Clock, ErrorCode } from '@baton/core';
import { Timer } from './timers.js';
import type { AgentTimers } from './timers.js';
import { renewalDueAt } from './token-state.js';
import type { TokenState } from './token-state.js';

/** Failures after which retrying the same renewal cannot succeed. */
const TERMINAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_RENEWAL_LIMIT',
  'ERR_TASK_DEADLINE_PASSED',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_REVOKED',
  'ERR_TOKEN_RELEASED',
  'ERR_TOKEN_KEY_REVOKED',
  'ERR_AGENT_SUPERSEDED',
  'ERR_SCOPE_ESCALATION',
  'ERR_PERMISSION_DENIED',
]);

/** True when a renewal failing with `err` is worth retrying. */
export function isRetryableRenewalError(err: unknown): boolean {
  return !(isBatonError(err) && TERMINAL_CODES.has(err.code));
}

/** What the renewer needs from the agent. */
export interface RenewerDeps {
  readonly clock: Clock;
  readonly timers: AgentTimers;
  /** Fraction of the lifetime after which to renew. */
  readonly renewAt: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** The token being kept alive. */
  current(): TokenState;
  /** One renewal round trip; replaces the current token on success. */
  renew(): Promise<void>;
  /** A renewal succeeded and the next one is planned. */
  onRenewed(): void;
  /** A renewal attempt failed; `retryAtMs` is undefined when the renewer gave up. */
  onFailure(error: BatonError, retryAtMs: number | undefined): void;
  /** The current token passed `exp` without a successful renewal. */
  onExpired(): void;
}

/** Schedules renewals of the agent's token. Internal. */
export class Renewer {
  readonly #deps: RenewerDeps;
  readonly #timer: Timer;
  #attempt = 0;
  #stopped = false;

  constructor(deps: RenewerDeps) {
    this.#deps = deps;
    this.#timer = new Timer(deps.timers);
  }

  /** Plans the next renewal of the current token (call after every new token). */
  schedule(): void {
    if (this.#stopped) return;
    this.#attempt = 0;
    const state = this.#deps.current();
    if (state.expiresAtMs >= state.taskDeadlineMs) {
      // The token already lives until the task deadline: no renewal can extend it.
      this.#armExpiry(state);
      return;
    }
    this.#timer.set(() => void this.#run(), renewalDueAt(state, this.#deps.renewAt) - this.#deps.clock.now());
  }

  /** Cancels everything; the renewer never fires again. */
  stop(): void {
    this.#stopped = true;
    this.#timer.cancel();
  }

  /** True while a renewal or retry is pending. */
  get pending(): boolean {
    return this.#timer.armed;
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    const before = this.#deps.current();
    try {
      await this.#deps.renew();
      this.schedule();
      this.#deps.onRenewed();
    } catch (err) {
      if (this.#stopped) return;
      this.#retryOrGiveUp(before, err);
    }
  }

  #retryOrGiveUp(state: TokenState, err: unknown): void {
    const error = isBatonError(err) ? err : new BatonError('ERR_UNAVAILABLE', 'renewal failed');
    const now = this.#deps.clock.now();
    if (isRetryableRenewalError(error) && now < state.expiresAtMs) {
      const backoff = Math.min(this.#deps.retryMaxDelayMs, this.#deps.retryInitialDelayMs * 2 ** Math.min(this.#attempt, 30));
      // Jitter in [backoff/2, backoff] so many agents of one task do not retry in step.
      const delay = Math.ceil(backoff / 2) + randomInt(Math.floor(backoff / 2) + 1);
      // The last useful attempt is just before expiry: a dead token cannot be renewed.
      const retryAt = Math.min(now + delay, state.expiresAtMs - 1);
      if (retryAt > now) {
        this.#attempt++;
        this.#deps.onFailure(error, retryAt);
        this.#timer.set(() => void this.#run(), retryAt - now);
        return;
      }
    }
    this.#deps.onFailure(error, undefined);
    this.#armExpiry(state);
  }

  #armExpiry(state: TokenState): void {
    this.#timer.set(() => {
      if (!this.#stopped) this.#deps.onExpired();
    }, state.expiresAtMs - this.#deps.clock.now());
  }
}
