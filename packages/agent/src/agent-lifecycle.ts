/**
 * The lifecycle of an agent: its token kept renewed (on schedule and on demand, one
 * renewal at a time), its heartbeats, and its release. Never touches the key: its calls
 * to the issuer carry proofs made by the channel the agent's parts open.
 */
import { BatonError, isBatonError } from '@baton/core';
import type { Scope } from '@baton/core';
import type { Client } from '@baton/proto';
import { TaskState } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { AgentParts } from './agent-parts.js';
import { AGENT_TASK_STATES, Heartbeat } from './heartbeat.js';
import type { AgentTaskState } from './heartbeat.js';
import { AGENT_DEFAULTS } from './options.js';
import { renewToken } from './renew-token.js';
import { Renewer } from './renewal.js';

/** Options of {@link Agent.renew}. */
export interface RenewOptions {
  /** Narrow the token to these scopes (each must be covered by the current ones). Default: keep. */
  readonly scopes?: readonly (string | Scope)[];
  /** Lifetime to ask for. Default: `requestedTtlSeconds` of the agent. */
  readonly ttlSeconds?: number;
}

/** The parts the lifecycle reads: everything but the key. */
export type LifecycleParts = Omit<AgentParts, 'key'>;

const TASK_STATE_WIRE: Readonly<Record<AgentTaskState, TaskState>> = Object.freeze({
  active: TaskState.ACTIVE,
  idle: TaskState.IDLE,
  completing: TaskState.COMPLETING,
});

const MAX_RELEASE_REASON = 256;

/** Renewal, heartbeats and release of one agent. Internal. */
export class AgentLifecycle {
  readonly #parts: LifecycleParts;
  readonly #issuer: Client<typeof IssuerService>;
  readonly #renewer: Renewer;
  readonly #heartbeat: Heartbeat;
  /** Stops the agent's other background work (SVID rotation) when it is released. */
  readonly #stopOthers: () => void;
  #renewChain: Promise<unknown> = Promise.resolve();
  #releasing: Promise<void> | undefined;

  constructor(parts: LifecycleParts, stopOthers: () => void) {
    const { options, session } = parts;
    this.#parts = parts;
    this.#stopOthers = stopOthers;
    this.#issuer = parts.authedClient(IssuerService, options.issuerTarget);
    this.#renewer = new Renewer({
      clock: options.clock,
      timers: options.timers,
      renewAt: options.renewAt,
      retryInitialDelayMs: options.retryInitialDelayMs,
      retryMaxDelayMs: options.retryMaxDelayMs,
      // The renewer checks expiry itself; it only needs the last token.
      current: () => parts.last(),
      renew: () => this.#serialRenew({}),
      onRenewed: () => this.#emitRenewed(),
      onFailure: (error, retryAt) => parts.emit({ type: 'renewal-failed', code: error.code, retryAt }),
      onExpired: () => {
        if (session.status === 'active') session.status = 'expired';
        this.#heartbeat.stop();
        parts.emit({ type: 'expired' });
      },
    });
    this.#heartbeat = new Heartbeat({
      timers: options.timers,
      fallbackIntervalSeconds: AGENT_DEFAULTS.heartbeatIntervalSeconds,
      send: async (state) => {
        const res = await parts.identity.heartbeat({ state: TASK_STATE_WIRE[state] }, { deadlineMs: options.rpcTimeoutMs });
        parts.emit({ type: 'heartbeat', state });
        return res.nextIntervalSeconds;
      },
      onFailure: (error) => parts.emit({ type: 'heartbeat-failed', code: error.code }),
    });
  }

  /** The task state last set with {@link setState}. */
  get taskState(): AgentTaskState {
    return this.#heartbeat.state;
  }

  /** Plans the next automatic renewal. */
  scheduleRenewal(): void {
    this.#renewer.schedule();
  }

  /** Starts heartbeats every `intervalSeconds` (as named by the authority), unless turned off. */
  startHeartbeat(intervalSeconds: number): void {
    if (this.#parts.options.heartbeat) this.#heartbeat.start(intervalSeconds);
  }

  /** See `Agent.setState`. */
  setState(state: AgentTaskState): void {
    if (!AGENT_TASK_STATES.includes(state)) throw new TypeError(`state must be one of ${AGENT_TASK_STATES.join(', ')}`);
    const changed = state !== this.#heartbeat.state;
    this.#heartbeat.setState(state);
    if (changed && this.#parts.options.heartbeat && this.#parts.session.status === 'active') void this.#heartbeat.beat();
  }

  /** See `Agent.renew`. */
  async renew(options: RenewOptions): Promise<void> {
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400)) throw new TypeError('ttlSeconds must be an integer in [1, 86400]');
    this.#parts.live();
    await this.#serialRenew(options);
    this.#renewer.schedule();
    this.#emitRenewed();
  }

  /** See `Agent.release`: TypeError for a bad reason, else the first call's promise. */
  release(reason: string): Promise<void> {
    if (typeof reason !== 'string' || reason.length > MAX_RELEASE_REASON) {
      throw new TypeError(`release reason must be a string of at most ${MAX_RELEASE_REASON} characters`);
    }
    this.#releasing ??= this.#release(reason);
    return this.#releasing;
  }

  /** Renewals run one at a time, each with the token the previous one produced. */
  #serialRenew(options: RenewOptions): Promise<void> {
    const run = this.#renewChain.then(() => this.#renewOnce(options));
    this.#renewChain = run.catch(() => undefined);
    return run;
  }

  async #renewOnce(options: RenewOptions): Promise<void> {
    const { options: o, session } = this.#parts;
    const next = await renewToken({
      issuer: this.#issuer,
      before: this.#parts.live(),
      scopes: options.scopes,
      ttlSeconds: options.ttlSeconds ?? o.requestedTtlSeconds,
      clock: o.clock,
      rpcTimeoutMs: o.rpcTimeoutMs,
    });
    if (session.status === 'active') session.state = next;
  }

  #emitRenewed(): void {
    const { session } = this.#parts;
    const s = session.state;
    if (s && session.status === 'active') this.#parts.emit({ type: 'renewed', expiresAt: s.expiresAtMs, renewals: s.renewals });
  }

  async #release(reason: string): Promise<void> {
    const { options, session } = this.#parts;
    this.#renewer.stop();
    this.#heartbeat.stop();
    this.#stopOthers();
    // Let an in-flight renewal land first, so its token is the one released.
    await this.#renewChain;
    const state = session.state;
    const wasActive = session.status === 'active' && state !== undefined && options.clock.now() < state.expiresAtMs;
    let failure: unknown;
    if (wasActive) {
      try {
        await this.#issuer.release({ reason }, { deadlineMs: options.rpcTimeoutMs });
      } catch (err) {
        failure = err;
      }
    }
    session.status = 'released';
    this.#parts.closeAll();
    this.#parts.emit({ type: 'released' });
    if (failure !== undefined) throw isBatonError(failure) ? failure : new BatonError('ERR_UNAVAILABLE', 'release failed');
  }
}
