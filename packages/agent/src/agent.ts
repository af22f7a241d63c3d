/**
 * The agent: one ephemeral instance with its own in-memory key, its SPIFFE identity, and
 * a short-lived token it keeps renewed, proves possession of on every call, and releases
 * when the task is done.
 *
 * This class is the public face; each concept behind it lives in a facet of its own,
 * built from the same internal parts (agent-parts.ts) and held in private fields:
 * - agent-lifecycle.ts: renewal (scheduled and on demand), heartbeats, release.
 * - agent-delegation.ts: delegating from this agent and adopting delegated tokens.
 * - agent-mtls.ts: the X.509-SVID and its rotation, `serve` and `connect`.
 * What stays here is the identity the agent shows and the calls it makes with its token.
 */
import type { DescService } from '@bufbuild/protobuf';
import { inspect } from 'node:util';
import { BatonError, formatScope } from '@baton/core';
import type { PublicJwk, Scope } from '@baton/core';
import type { Client, ServiceImpl } from '@baton/proto';
import { dpopMetadata } from '@baton/guard';
import { AgentDelegation } from './agent-delegation.js';
import { EventHub } from './agent-events.js';
import type { AgentEvent } from './agent-events.js';
import { AgentLifecycle } from './agent-lifecycle.js';
import type { RenewOptions } from './agent-lifecycle.js';
import { AgentMtls } from './agent-mtls.js';
import type { AgentSvidInfo } from './agent-mtls.js';
import { createAgentParts } from './agent-parts.js';
import type { AgentParts } from './agent-parts.js';
import { assertMethodPath } from './call-metadata.js';
import type { CallMetadata } from './call-metadata.js';
import type { ConnectOptions } from './connect.js';
import type { DelegatedToken, DelegateeRef, DelegateOptions, DelegationGrant } from './delegate.js';
import type { AgentTaskState } from './heartbeat.js';
import { httpMethod, httpTargetUri, withDpopHeaders } from './http-proof.js';
import type { AgentOptions } from './options.js';
import { bootstrapAgent } from './registration.js';
import type { AgentBootstrap } from './registration.js';
import type { AgentServer, ServeOptions } from './serve.js';
import type { AgentStatus } from './session.js';

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
  /** Options, key holder, session and channels; shared only with the facets below. */
  readonly #parts: AgentParts;
  readonly #instanceId: string;
  readonly #events = new EventHub();
  readonly #lifecycle: AgentLifecycle;
  readonly #delegation: AgentDelegation;
  readonly #mtls: AgentMtls;

  private constructor(init: AgentBootstrap) {
    this.#instanceId = init.registration.instanceId;
    this.#parts = createAgentParts(init, (e) => this.#events.emit(e));
    this.#lifecycle = new AgentLifecycle(this.#parts, () => this.#mtls.stop());
    this.#delegation = new AgentDelegation(this.#parts);
    // Last: it checks the SVID Register returned, and may refuse it.
    this.#mtls = new AgentMtls(this.#parts, init.registration.svid);
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
    agent.#lifecycle.scheduleRenewal();
    agent.#mtls.schedule();
    agent.#lifecycle.startHeartbeat(registration.heartbeatIntervalSeconds);
    return agent;
  }

  /** `spiffe://<td>/agent/<orchestration>/<task>/<instance>`. */
  get spiffeId(): string {
    return this.#parts.last().spiffeId;
  }

  /** The random instance id (last SPIFFE path segment). */
  get instanceId(): string {
    return this.#instanceId;
  }

  /** The scopes of the current token. */
  get scopes(): readonly Scope[] {
    return this.#parts.last().scopes;
  }

  /** Audiences of the current token. */
  get audiences(): readonly string[] {
    return this.#parts.last().audiences;
  }

  /** When the current token expires, in ms since the epoch. */
  get expiresAt(): number {
    return this.#parts.last().expiresAtMs;
  }

  /** The task deadline (no token outlives it), in ms since the epoch. */
  get taskDeadline(): number {
    return this.#parts.last().taskDeadlineMs;
  }

  /** RFC 7638 thumbprint of the agent's public key (`cnf.jkt` of its tokens). */
  get thumbprint(): string {
    return this.#parts.key.thumbprint;
  }

  /** The agent's public key as a JWK. */
  get publicJwk(): PublicJwk {
    return this.#parts.key.publicJwk;
  }

  /** `active` until the token expires unrenewed or the agent is released. */
  get status(): AgentStatus {
    return this.#parts.session.status;
  }

  /** The task state last set with {@link setState}. */
  get taskState(): AgentTaskState {
    return this.#lifecycle.taskState;
  }

  /**
   * The current access token. Throws ERR_TOKEN_RELEASED after release and
   * ERR_TOKEN_EXPIRED once it expired without renewal.
   */
  token(): string {
    return this.#parts.live().token;
  }

  /**
   * Credentials for one gRPC call to `method` (`/package.Service/Method`): the token and a
   * fresh single-use proof. Prefer {@link client}, which does this on every call.
   */
  callMetadata(method: string): CallMetadata {
    const path = assertMethodPath(method);
    const md = dpopMetadata(this.#parts.key.unsafeKeyPair(), this.token(), path, this.#parts.options.clock.now());
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
    this.#parts.live(); // fail now, not at first call, when the agent is no longer active
    return this.#parts.authedClient(service, target);
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
    const proof = this.#parts.key.proof({ htm: method, htu, accessToken: token, nowMs: this.#parts.options.clock.now() });
    return fetch(url, { redirect: 'manual', ...init, method, headers: withDpopHeaders(init.headers, token, proof) });
  }

  /**
   * What a delegator needs to delegate to this agent: its SPIFFE id and public key
   * (nothing secret). Hand it to the agent that will call {@link delegate}.
   */
  get delegationTarget(): DelegateeRef {
    return this.#delegation.target;
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
    return this.#delegation.delegate(to, scopes, options);
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
    return this.#delegation.adopt(token);
  }

  /** The agent's current X.509-SVID (public facts), or undefined when the authority issues none. */
  get svid(): AgentSvidInfo | undefined {
    return this.#mtls.info;
  }

  /** Rotates the X.509-SVID now (the SDK also does this at half its lifetime). */
  async renewSvid(): Promise<void> {
    return this.#mtls.renewSvid();
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
    return this.#mtls.serve(service, impl, options);
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
    return this.#mtls.connect(service, name, options);
  }

  /**
   * Records what the task is doing; sent with every heartbeat (and at once on a change).
   */
  setState(state: AgentTaskState): void {
    this.#lifecycle.setState(state);
  }

  /**
   * Renews now (the SDK also does this on its own at `renewAt` of the lifetime). The new
   * token keeps the identity and never has wider scopes; pass `scopes` to narrow it.
   * Rejects with ERR_SCOPE_ESCALATION before calling the authority if `scopes` asks for
   * more than is held.
   */
  async renew(options: RenewOptions = {}): Promise<void> {
    return this.#lifecycle.renew(options);
  }

  /**
   * Task done: the authority kills every token of this agent (reason RELEASED, distinct
   * from revocation), timers stop and the agent's channels close. Idempotent: later calls
   * return the first call's promise. Rejects if the authority could not be told; the
   * agent is released locally either way.
   */
  release(reason = 'task complete'): Promise<void> {
    return this.#lifecycle.release(reason);
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
    const s = this.#parts.session.state;
    return {
      spiffeId: s?.spiffeId,
      instanceId: this.#instanceId,
      status: this.#parts.session.status,
      scopes: s?.scopes.map(formatScope),
      expiresAt: s?.expiresAtMs,
      thumbprint: this.#parts.key.thumbprint,
    };
  }

  [inspect.custom](): string {
    return `Agent ${inspect(this.toJSON())}`;
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
