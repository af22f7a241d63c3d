/**
 * The agent: one ephemeral instance with its own in-memory key, its SPIFFE identity, and
 * a short-lived token it keeps renewed, proves possession of on every call, and releases
 * when the task is done.
 *
 * Extension points, kept small on purpose:
 * - Delegation (issue 3): `delegate(to, scopes, { ttl })` becomes one method here that
 *   signs a hop with `#key` and calls DelegationService through `#authedClient`, plus a
 *   `delegation` target in the options. Nothing else needs to change.
 * - mTLS (issue 6): the SVID and its rotation live in agent-svid.ts, `serve`/`connect` in
 *   serve.ts/connect.ts (wired by agent-mtls.ts); `options.credentials` still decides how
 *   the agent reaches the authority.
 */
import type { DescService } from '@bufbuild/protobuf';
import { inspect } from 'node:util';
import { BatonError, formatScope, isBatonError } from '@baton/core';
import type { PublicJwk, Scope } from '@baton/core';
import type { Client } from '@baton/proto';
import { IdentityService, TaskState } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { dpopMetadata } from '@baton/guard';
import { createAgentClient } from './agent-client.js';
import type { MetadataFor } from './agent-client.js';
import { DelegatedToken, delegateFrom } from './delegate.js';
import type { DelegateeRef, DelegateOptions, DelegationGrant } from './delegate.js';
import { EventHub } from './agent-events.js';
import type { AgentEvent } from './agent-events.js';
import type { AgentKey } from './agent-key.js';
import { assertMethodPath } from './call-metadata.js';
import type { CallMetadata } from './call-metadata.js';
import { AGENT_TASK_STATES, Heartbeat } from './heartbeat.js';
import type { AgentTaskState } from './heartbeat.js';
import { httpMethod, httpTargetUri, withDpopHeaders } from './http-proof.js';
import { AGENT_DEFAULTS } from './options.js';
import type { AgentOptions, ResolvedAgentOptions } from './options.js';
import { bootstrapAgent } from './registration.js';
import type { AgentBootstrap } from './registration.js';
import { renewToken } from './renew-token.js';
import { Renewer } from './renewal.js';
import { liveState, metadataHook } from './session.js';
import type { AgentStatus, Session } from './session.js';
import type { TokenState } from './token-state.js';
import { connectDepsOf, requireKeeper, resolvePeer, serveDepsOf, svidInfo, svidKeeperOf } from './agent-mtls.js';
import type { AgentParts, AgentSvidInfo } from './agent-mtls.js';
import type { SvidKeeper } from './agent-svid.js';
import { connectWithSvid } from './connect.js';
import type { ConnectOptions } from './connect.js';
import { serveWithSvid } from './serve.js';
import type { AgentServer, ServeOptions } from './serve.js';
import type { ServiceImpl } from '@baton/proto';

/** Options of {@link Agent.renew}. */
export interface RenewOptions {
  /** Narrow the token to these scopes (each must be covered by the current ones). Default: keep. */
  readonly scopes?: readonly (string | Scope)[];
  /** Lifetime to ask for. Default: `requestedTtlSeconds` of the agent. */
  readonly ttlSeconds?: number;
}

const TASK_STATE_WIRE: Readonly<Record<AgentTaskState, TaskState>> = Object.freeze({
  active: TaskState.ACTIVE,
  idle: TaskState.IDLE,
  completing: TaskState.COMPLETING,
});

const MAX_RELEASE_REASON = 256;

/**
 * A registered agent instance. Create one with {@link createAgent} (or `Agent.register`).
 *
 * The private key never leaves this object: there is no getter for it, and
 * `JSON.stringify(agent)` / `util.inspect(agent)` show only public facts.
 *
 * @example
 * ```ts
 * await using agent = await createAgent({ authority: 'localhost:7443' }); // token from BATON_LAUNCH_TOKEN
 * const payments = agent.client(PaymentsService, 'payments.internal:8443');
 * await payments.approve({ invoice: 'inv-7', amount: 4000 });
 * ```
 */
export class Agent {
  readonly #options: ResolvedAgentOptions;
  readonly #key: AgentKey;
  readonly #session: Session;
  readonly #instanceId: string;
  readonly #identity: Client<typeof IdentityService>;
  readonly #issuer: Client<typeof IssuerService>;
  readonly #clients = new Set<{ close(): void }>();
  readonly #events = new EventHub();
  readonly #renewer: Renewer;
  readonly #heartbeat: Heartbeat;
  #renewChain: Promise<unknown> = Promise.resolve();
  #releasing: Promise<void> | undefined;
  #delegation: Client<typeof DelegationService> | undefined;
  readonly #svid: SvidKeeper | undefined;

  private constructor(init: AgentBootstrap) {
    this.#options = init.options;
    this.#key = init.key;
    this.#session = init.session;
    this.#instanceId = init.registration.instanceId;
    this.#identity = init.identity;
    this.#clients.add(init.identity);
    this.#issuer = this.#authedClient(IssuerService, init.options.issuerTarget);
    this.#renewer = new Renewer({
      clock: init.options.clock,
      timers: init.options.timers,
      renewAt: init.options.renewAt,
      retryInitialDelayMs: init.options.retryInitialDelayMs,
      retryMaxDelayMs: init.options.retryMaxDelayMs,
      // The renewer checks expiry itself; it only needs the last token.
      current: () => this.#lastState(),
      renew: () => this.#serialRenew({}),
      onRenewed: () => this.#emitRenewed(),
      onFailure: (error, retryAt) => this.#emit({ type: 'renewal-failed', code: error.code, retryAt }),
      onExpired: () => {
        if (this.#session.status === 'active') this.#session.status = 'expired';
        this.#heartbeat.stop();
        this.#emit({ type: 'expired' });
      },
    });
    this.#heartbeat = new Heartbeat({
      timers: init.options.timers,
      fallbackIntervalSeconds: AGENT_DEFAULTS.heartbeatIntervalSeconds,
      send: async (state) => {
        const res = await this.#identity.heartbeat({ state: TASK_STATE_WIRE[state] }, { deadlineMs: this.#options.rpcTimeoutMs });
        this.#emit({ type: 'heartbeat', state });
        return res.nextIntervalSeconds;
      },
      onFailure: (error) => this.#emit({ type: 'heartbeat-failed', code: error.code }),
    });
    this.#svid = svidKeeperOf(this.#parts(), init.registration.svid);
  }

  /**
   * Registers a new agent instance: generates its key in memory, takes the launch token
   * (argument or `BATON_LAUNCH_TOKEN`, which is then removed from the environment),
   * answers the authority's challenge, and starts renewal and heartbeats.
   *
   * Rejects with the authority's BatonError (e.g. ERR_LAUNCH_TOKEN_REPLAYED) on refusal;
   * TypeError for bad options.
   */
  static async register(options: AgentOptions): Promise<Agent> {
    const init = await bootstrapAgent(options);
    const { options: resolved, registration } = init;
    const agent = new Agent(init);
    const missing = resolved.audiences.filter((a) => !registration.state.audiences.includes(a));
    if (missing.length > 0) {
      await agent.release('audience mismatch').catch(() => undefined);
      throw new BatonError('ERR_TOKEN_AUDIENCE_INVALID', `token lacks audience ${missing.join(', ')}`);
    }
    agent.#renewer.schedule();
    agent.#svid?.schedule();
    if (resolved.heartbeat) agent.#heartbeat.start(registration.heartbeatIntervalSeconds);
    return agent;
  }

  /** `spiffe://<td>/agent/<orchestration>/<task>/<instance>`. */
  get spiffeId(): string {
    return this.#lastState().spiffeId;
  }

  /** The random instance id (last SPIFFE path segment). */
  get instanceId(): string {
    return this.#instanceId;
  }

  /** The scopes of the current token. */
  get scopes(): readonly Scope[] {
    return this.#lastState().scopes;
  }

  /** Audiences of the current token. */
  get audiences(): readonly string[] {
    return this.#lastState().audiences;
  }

  /** When the current token expires, in ms since the epoch. */
  get expiresAt(): number {
    return this.#lastState().expiresAtMs;
  }

  /** The task deadline (no token outlives it), in ms since the epoch. */
  get taskDeadline(): number {
    return this.#lastState().taskDeadlineMs;
  }

  /** RFC 7638 thumbprint of the agent's public key (`cnf.jkt` of its tokens). */
  get thumbprint(): string {
    return this.#key.thumbprint;
  }

  /** The agent's public key as a JWK. */
  get publicJwk(): PublicJwk {
    return this.#key.publicJwk;
  }

  /** `active` until the token expires unrenewed or the agent is released. */
  get status(): AgentStatus {
    return this.#session.status;
  }

  /** The task state last set with {@link setState}. */
  get taskState(): AgentTaskState {
    return this.#heartbeat.state;
  }

  /**
   * The current access token. Throws ERR_TOKEN_RELEASED after release and
   * ERR_TOKEN_EXPIRED once it expired without renewal.
   */
  token(): string {
    return this.#state().token;
  }

  /**
   * Credentials for one gRPC call to `method` (`/package.Service/Method`): the token and a
   * fresh single-use proof. Prefer {@link client}, which does this on every call.
   */
  callMetadata(method: string): CallMetadata {
    const path = assertMethodPath(method);
    const md = dpopMetadata(this.#key.unsafeKeyPair(), this.token(), path, this.#options.clock.now());
    return { authorization: md['authorization']!, dpop: md['dpop']! };
  }

  /**
   * A typed client for `service` at `target` whose every call carries the agent's token
   * and a fresh proof. Each client is a channel: make it once and reuse it. Closed when
   * the agent is released.
   *
   * @example
   * const payments = agent.client(PaymentsService, 'localhost:9000');
   * await payments.approve({ amount: 4000 });
   */
  client<S extends DescService>(service: S, target: string): Client<S> {
    if (typeof target !== 'string' || target.length === 0) throw new TypeError('agent.client: target required');
    this.#state(); // fail now, not at first call, when the agent is no longer active
    return this.#authedClient(service, target);
  }

  /**
   * `fetch` for HTTP resources behind a guard: adds `Authorization: DPoP <token>` and a
   * `DPoP` proof for this method and URL (RFC 9449; `htu` without query and fragment).
   * Redirects are not followed by default (`redirect: 'manual'`), so the token is never
   * replayed to another location.
   */
  async fetch(url: string | URL, init: RequestInit = {}): Promise<Response> {
    if (typeof url !== 'string' && !(url instanceof URL)) throw new TypeError('agent.fetch: url must be a string or URL');
    const method = httpMethod(init.method);
    const htu = httpTargetUri(url);
    const token = this.token();
    const proof = this.#key.proof({ htm: method, htu, accessToken: token, nowMs: this.#options.clock.now() });
    return fetch(url, { redirect: 'manual', ...init, method, headers: withDpopHeaders(init.headers, token, proof) });
  }

  /**
   * What a delegator needs to delegate to this agent: its SPIFFE id and public key
   * (nothing secret). Hand it to the agent that will call {@link delegate}.
   */
  get delegationTarget(): DelegateeRef {
    return Object.freeze({ spiffeId: this.spiffeId, publicKey: this.#key.publicJwk });
  }

  /**
   * Delegates `scopes` (each covered by this agent's current ones, constraints included)
   * to another live agent for at most `ttl` seconds (never beyond this agent's token):
   * signs a hop with this agent's key and has DelegationService issue the child token,
   * which is bound to the delegatee's key. Hand `grant.token` to the delegatee, which
   * adopts it with {@link adoptDelegatedToken}. Rejects with the service's code
   * (ERR_SCOPE_ESCALATION, ERR_DELEGATEE_UNKNOWN, ERR_DELEGATION_TARGET_NOT_ALLOWED...).
   *
   * @example
   * const grant = await manager.delegate(intern.delegationTarget, [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 } } }], { ttl: 120 });
   */
  delegate(to: DelegateeRef, scopes: readonly (string | Scope)[], options: DelegateOptions = {}): Promise<DelegationGrant> {
    let token: string;
    try {
      token = this.#state().token;
    } catch (err) {
      return Promise.reject(err);
    }
    this.#delegation ??= this.#authedClient(DelegationService, this.#options.delegationTarget);
    const args = { key: this.#key, token, client: this.#delegation, clock: this.#options.clock, rpcTimeoutMs: this.#options.rpcTimeoutMs };
    return delegateFrom(args, to, scopes, options);
  }

  /**
   * Takes a child token a delegator obtained for this agent. It must name this agent and
   * be bound to its key (ERR_TOKEN_CLAIMS_INVALID / ERR_CHAIN_KEY_MISMATCH otherwise).
   * Its clients sign proofs with this agent's key and close when the agent is released.
   *
   * @example
   * const delegated = intern.adoptDelegatedToken(grant.token);
   * await delegated.client(PaymentsService, 'payments:9000').approve({ amount: 4000 });
   */
  adoptDelegatedToken(token: string): DelegatedToken {
    this.#state();
    return new DelegatedToken(token, {
      key: this.#key,
      spiffeId: this.spiffeId,
      clock: this.#options.clock,
      rpcTimeoutMs: this.#options.rpcTimeoutMs,
      delegationTarget: this.#options.delegationTarget,
      open: <S extends DescService>(service: S, target: string, metadataFor: MetadataFor): Client<S> => {
        this.#state();
        const client = createAgentClient(service, target, metadataFor, { credentials: this.#options.credentials, defaultDeadlineMs: this.#options.rpcTimeoutMs });
        this.#clients.add(client);
        return client;
      },
    });
  }

  /** The agent's current X.509-SVID (public facts), or undefined when the authority issues none. */
  get svid(): AgentSvidInfo | undefined {
    return this.#svid ? svidInfo(this.#svid.svid) : undefined;
  }

  /** Rotates the X.509-SVID now (the SDK also does this at half its lifetime). */
  async renewSvid(): Promise<void> {
    this.#state();
    const keeper = requireKeeper(this.#svid);
    await keeper.renewNow();
    keeper.schedule();
  }

  /**
   * Serves `service` over mTLS with this agent's SVID: clients must present a valid SVID
   * of the trust domain; with `tokens`, every call also needs an access token for that
   * audience — bound to the client's certificate or DPoP-bound. `publish` registers the
   * server for discovery. Closed when the agent is released.
   *
   * @example
   * const server = await agent.serve(Reviews, impl, { publish: 'reviewer', tokens: { audience: 'reviews', toRequest: () => ({ action: 'review', resource: 'invoice' }) } });
   */
  async serve<S extends DescService>(service: S, impl: ServiceImpl<S>, options: ServeOptions<S> = {}): Promise<AgentServer> {
    const deps = serveDepsOf(this.#parts(), requireKeeper(this.#svid));
    const server = await serveWithSvid(deps, service, impl, options);
    this.#clients.add({ close: () => void server.close() });
    return server;
  }

  /**
   * A client for the peer published as `name`: Resolve gives its address and the SPIFFE
   * id it must prove; the channel is mTLS and refuses any other identity
   * (ERR_PEER_IDENTITY_MISMATCH), whatever the hostname. Calls carry a token bound to this
   * agent's SVID (default) or a DPoP-bound one. Closed when the agent is released.
   *
   * @example
   * const reviewer = await agent.connect(Reviews, 'reviewer');
   * await reviewer.review({ invoice: 'inv-7' });
   */
  async connect<S extends DescService>(service: S, name: string, options: ConnectOptions = {}): Promise<Client<S>> {
    this.#state();
    const keeper = requireKeeper(this.#svid);
    const peer = await resolvePeer(this.#parts(), name, options);
    const client = connectWithSvid(connectDepsOf(this.#parts(), keeper), service, peer, options);
    this.#clients.add(client);
    return client;
  }

  /**
   * Records what the task is doing; sent with every heartbeat (and at once on a change).
   */
  setState(state: AgentTaskState): void {
    if (!AGENT_TASK_STATES.includes(state)) throw new TypeError(`state must be one of ${AGENT_TASK_STATES.join(', ')}`);
    const changed = state !== this.#heartbeat.state;
    this.#heartbeat.setState(state);
    if (changed && this.#options.heartbeat && this.#session.status === 'active') void this.#heartbeat.beat();
  }

  /**
   * Renews now (the SDK also does this on its own at `renewAt` of the lifetime). The new
   * token keeps the identity and never has wider scopes; pass `scopes` to narrow it.
   * Rejects with ERR_SCOPE_ESCALATION before calling the authority if `scopes` asks for
   * more than is held.
   */
  async renew(options: RenewOptions = {}): Promise<void> {
    const ttl = options.ttlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > 86_400)) throw new TypeError('ttlSeconds must be an integer in [1, 86400]');
    this.#state();
    await this.#serialRenew(options);
    this.#renewer.schedule();
    this.#emitRenewed();
  }

  /**
   * Task done: the authority kills every token of this agent (reason RELEASED, distinct
   * from revocation), timers stop and the agent's channels close. Idempotent: later calls
   * return the first call's promise. Rejects if the authority could not be told; the
   * agent is released locally either way.
   */
  release(reason = 'task complete'): Promise<void> {
    if (typeof reason !== 'string' || reason.length > MAX_RELEASE_REASON) {
      throw new TypeError(`release reason must be a string of at most ${MAX_RELEASE_REASON} characters`);
    }
    this.#releasing ??= this.#release(reason);
    return this.#releasing;
  }

  /** Same as {@link release} with the default reason (for `await using`). */
  dispose(): Promise<void> {
    return this.release();
  }

  /** `await using agent = await createAgent(...)` releases at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  /** Subscribes to background events; returns the unsubscribe function. */
  onEvent(listener: (event: AgentEvent) => void): () => void {
    return this.#events.on(listener);
  }

  /** Public facts only: never the key, never the token. */
  toJSON(): Record<string, unknown> {
    const s = this.#session.state;
    return {
      spiffeId: s?.spiffeId,
      instanceId: this.#instanceId,
      status: this.#session.status,
      scopes: s?.scopes.map(formatScope),
      expiresAt: s?.expiresAtMs,
      thumbprint: this.#key.thumbprint,
    };
  }

  [inspect.custom](): string {
    return `Agent ${inspect(this.toJSON())}`;
  }

  // --- internals -------------------------------------------------------------------

  /** The live token state, or the error that explains why there is none. */
  #state(): TokenState {
    return liveState(this.#session, this.#options.clock.now());
  }

  /** Last known state for read-only getters (valid even after release). */
  #lastState(): TokenState {
    const s = this.#session.state;
    if (!s) throw new BatonError('ERR_TOKEN_RELEASED', 'agent released');
    return s;
  }

  #authedClient<S extends DescService>(service: S, target: string): Client<S> {
    const client = createAgentClient(service, target, metadataHook(this.#key, this.#session, this.#options.clock), {
      credentials: this.#options.credentials,
      defaultDeadlineMs: this.#options.rpcTimeoutMs,
    });
    this.#clients.add(client);
    return client;
  }

  /** Renewals run one at a time, each with the token the previous one produced. */
  #serialRenew(options: RenewOptions): Promise<void> {
    const run = this.#renewChain.then(() => this.#renewOnce(options));
    this.#renewChain = run.catch(() => undefined);
    return run;
  }

  async #renewOnce(options: RenewOptions): Promise<void> {
    const next = await renewToken({
      issuer: this.#issuer,
      before: this.#state(),
      scopes: options.scopes,
      ttlSeconds: options.ttlSeconds ?? this.#options.requestedTtlSeconds,
      clock: this.#options.clock,
      rpcTimeoutMs: this.#options.rpcTimeoutMs,
    });
    if (this.#session.status === 'active') this.#session.state = next;
  }

  #emitRenewed(): void {
    const s = this.#session.state;
    if (s && this.#session.status === 'active') this.#emit({ type: 'renewed', expiresAt: s.expiresAtMs, renewals: s.renewals });
  }

  async #release(reason: string): Promise<void> {
    this.#renewer.stop();
    this.#heartbeat.stop();
    this.#svid?.stop();
    // Let an in-flight renewal land first, so its token is the one released.
    await this.#renewChain;
    const state = this.#session.state;
    const wasActive = this.#session.status === 'active' && state !== undefined && this.#options.clock.now() < state.expiresAtMs;
    let failure: unknown;
    if (wasActive) {
      try {
        await this.#issuer.release({ reason }, { deadlineMs: this.#options.rpcTimeoutMs });
      } catch (err) {
        failure = err;
      }
    }
    this.#session.status = 'released';
    for (const c of this.#clients) c.close();
    this.#clients.clear();
    this.#emit({ type: 'released' });
    if (failure !== undefined) throw isBatonError(failure) ? failure : new BatonError('ERR_UNAVAILABLE', 'release failed');
  }

  #emit(event: AgentEvent): void {
    this.#events.emit(event);
  }

  #parts(): AgentParts {
    return { options: this.#options, key: this.#key, session: this.#session, identity: this.#identity, emit: (e) => this.#emit(e) };
  }
}

/**
 * Registers an agent instance; see {@link Agent.register}.
 *
 * @example
 * ```ts
 * const agent = await createAgent({ authority: 'localhost:7443', name: 'intern' });
 * try {
 *   await agent.client(PaymentsService, 'localhost:9000').approve({ amount: 4000 });
 * } finally {
 *   await agent.release();
 * }
 * ```
 */
export function createAgent(options: AgentOptions): Promise<Agent> {
  return Agent.register(options);
}
