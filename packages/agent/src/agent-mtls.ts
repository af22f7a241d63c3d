/**
 * The mTLS surface of an agent (issue 6), wired from its parts: the SVID keeper
 * (rotation at half-life), `serve` and `connect`, and the dependencies those take. Kept
 * out of agent.ts so the Agent class only gains thin methods.
 */
import type { DescService } from '@bufbuild/protobuf';
import { BatonError, decodeJws, assertId } from '@baton/core';
import type { Client, ServiceImpl } from '@baton/proto';
import type { X509Svid } from '@baton/proto/baton/identity/v1/identity_pb.js';
import type { Svid } from '@baton/x509';
import { dpopMetadata } from '@baton/guard';
import { SvidKeeper, acceptSvid } from './agent-svid.js';
import type { AgentParts } from './agent-parts.js';
import { connectWithSvid } from './connect.js';
import type { ConnectDeps, ConnectOptions, ResolvedPeer } from './connect.js';
import { serveWithSvid } from './serve.js';
import type { AgentServer, ServeDeps, ServeOptions } from './serve.js';
import { liveState } from './session.js';

/** Public facts of the agent's current X.509-SVID. */
export interface AgentSvidInfo {
  readonly spiffeId: string;
  /** DER of the certificate (public). */
  readonly certificate: Buffer;
  /** ms since the epoch. */
  readonly notBefore: number;
  readonly notAfter: number;
}

/** Public view of an SVID. */
export function svidInfo(s: Svid): AgentSvidInfo {
  return Object.freeze({ spiffeId: s.spiffeId, certificate: Buffer.from(s.certificate), notBefore: s.notBefore, notAfter: s.notAfter });
}

/** The keeper for the SVID Register returned, or undefined when the authority issued none. */
export function svidKeeperOf(parts: AgentParts, wire: X509Svid | undefined): SvidKeeper | undefined {
  if (!wire) return undefined;
  const o = parts.options;
  const state = parts.session.state!;
  const privateKey = parts.key.unsafeKeyPair().privateKey;
  return new SvidKeeper(acceptSvid(wire, state.spiffeId, privateKey, o.clock.now()), {
    spiffeId: state.spiffeId,
    privateKey,
    taskDeadlineMs: state.taskDeadlineMs,
    clock: o.clock,
    timers: o.timers,
    retryInitialDelayMs: o.retryInitialDelayMs,
    retryMaxDelayMs: o.retryMaxDelayMs,
    renew: async () => (await parts.identity.renewSvid({}, { deadlineMs: o.rpcTimeoutMs })).svid,
    onRenewed: (svid) => parts.emit({ type: 'svid-renewed', notAfter: svid.notAfter }),
    onFailure: (error, retryAt) => parts.emit({ type: 'svid-renewal-failed', code: error.code, retryAt }),
  });
}

/** The keeper, or ERR_UNAVAILABLE when the agent has no SVID (the authority runs no CA). */
export function requireKeeper(keeper: SvidKeeper | undefined): SvidKeeper {
  if (!keeper) throw new BatonError('ERR_UNAVAILABLE', 'this agent has no X.509-SVID (the authority runs no identity CA)');
  return keeper;
}

/** What `serve` needs. */
export function serveDepsOf(parts: AgentParts, keeper: SvidKeeper): ServeDeps {
  const o = parts.options;
  const state = liveState(parts.session, o.clock.now());
  const iss = decodeJws(state.token).payload['iss'];
  if (typeof iss !== 'string') throw new BatonError('ERR_TOKEN_MALFORMED', 'token without iss');
  return {
    source: keeper.source,
    spiffeId: state.spiffeId,
    issuer: iss,
    issuerTarget: o.issuerTarget,
    credentials: o.credentials,
    clock: o.clock,
    ...(o.audit ? { audit: o.audit } : {}),
    publish: async (name, address) => {
      await parts.identity.publish({ name, address }, { deadlineMs: o.rpcTimeoutMs });
    },
  };
}

/** What `connect` needs. */
export function connectDepsOf(parts: AgentParts, keeper: SvidKeeper): ConnectDeps {
  const o = parts.options;
  return {
    source: keeper.source,
    clock: o.clock,
    ...(o.audit ? { audit: o.audit } : {}),
    rpcTimeoutMs: o.rpcTimeoutMs,
    currentJti: () => liveState(parts.session, o.clock.now()).jti,
    dpopMetadata: (path) => {
      const now = o.clock.now();
      return dpopMetadata(parts.key.unsafeKeyPair(), liveState(parts.session, now).token, path, now);
    },
    bindToken: async (certificate, audiences) => {
      const res = await parts.identity.issueSvidBoundToken({ certificate, audiences: audiences ? [...audiences] : [] }, { deadlineMs: o.rpcTimeoutMs });
      return { token: res.accessToken, expiresAtMs: Number(res.expiresAt) * 1000, ttlSeconds: res.grantedTtlSeconds };
    },
  };
}

/** Resolve `name` (own task unless both ids are given): the address and the identity the peer must prove. */
export async function resolvePeer(parts: AgentParts, name: string, options: ConnectOptions): Promise<ResolvedPeer> {
  assertId('name', name);
  const { orchestrationId, taskId } = options;
  if ((orchestrationId === undefined) !== (taskId === undefined)) throw new TypeError('connect: give both orchestrationId and taskId, or neither');
  const res = await parts.identity.resolve({ name, orchestrationId: orchestrationId ?? '', taskId: taskId ?? '' }, { deadlineMs: parts.options.rpcTimeoutMs });
  return { address: res.address, spiffeId: res.spiffeId };
}

/** The SVID of one agent and the mTLS channels it opens. Internal. */
export class AgentMtls {
  readonly #parts: AgentParts;
  /** Undefined when the authority issued no SVID (it runs no identity CA). */
  readonly #svid: SvidKeeper | undefined;

  /** Checks the SVID Register returned (ERR_PEER_CERT_INVALID if it is not this agent's). */
  constructor(parts: AgentParts, wire: X509Svid | undefined) {
    this.#parts = parts;
    this.#svid = svidKeeperOf(parts, wire);
  }

  /** See `Agent.svid`. */
  get info(): AgentSvidInfo | undefined {
    return this.#svid ? svidInfo(this.#svid.svid) : undefined;
  }

  /** Plans the first rotation (no-op without an SVID). */
  schedule(): void {
    this.#svid?.schedule();
  }

  /** Stops rotating (release). */
  stop(): void {
    this.#svid?.stop();
  }

  /** See `Agent.renewSvid`. */
  async renewSvid(): Promise<void> {
    this.#parts.live();
    const keeper = requireKeeper(this.#svid);
    await keeper.renewNow();
    keeper.schedule();
  }

  /** See `Agent.serve`. */
  async serve<S extends DescService>(service: S, impl: ServiceImpl<S>, options: ServeOptions<S>): Promise<AgentServer> {
    const deps = serveDepsOf(this.#parts, requireKeeper(this.#svid));
    const server = await serveWithSvid(deps, service, impl, options);
    this.#parts.track({ close: () => void server.close() });
    return server;
  }

  /** See `Agent.connect`. */
  async connect<S extends DescService>(service: S, name: string, options: ConnectOptions): Promise<Client<S>> {
    this.#parts.live();
    const keeper = requireKeeper(this.#svid);
    const peer = await resolvePeer(this.#parts, name, options);
    const client = connectWithSvid(connectDepsOf(this.#parts, keeper), service, peer, options);
    this.#parts.track(client);
    return client;
  }
}
