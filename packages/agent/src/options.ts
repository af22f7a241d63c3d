/**
 * Options of `createAgent`, their frozen defaults, and the one function that validates
 * them. Every mistake here is the caller's, so it is a TypeError.
 */
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { parseScopes, systemClock } from '@baton/core';
import type { AuditSink, Clock, Scope } from '@baton/core';
import { systemTimers } from './timers.js';
import type { AgentTimers } from './timers.js';

/** Options of {@link createAgent}. Only an address and a launch token are needed. */
export interface AgentOptions {
  /**
   * gRPC target (`host:port`) of the authority serving IdentityService and
   * IssuerService. Required unless both `identity` and `issuer` are given.
   */
  readonly authority?: string;
  /** Target of IdentityService when it runs apart from the issuer. Default: `authority`. */
  readonly identity?: string;
  /** Target of IssuerService when it runs apart from identity. Default: `authority`. */
  readonly issuer?: string;
  /** Target of DelegationService (`agent.delegate`). Default: `authority`, else `issuer`. */
  readonly delegation?: string;
  /**
   * The one-time launch token from the orchestrator. Default: read from
   * `BATON_LAUNCH_TOKEN`, which is then deleted from the environment (it is deleted even
   * when this option is given).
   */
  readonly launchToken?: string;
  /** Human-readable role, e.g. `manager` (`[a-z0-9][a-z0-9._-]{0,63}`). Default: none. */
  readonly name?: string;
  /**
   * Ask for less than the launch token's ceiling (least privilege). Default: the ceiling.
   * String (`action:resource[:id]`) or structured scopes.
   */
  readonly requestedScopes?: readonly (string | Scope)[];
  /** Token lifetime to ask for; the authority may grant less. Default: the policy default. */
  readonly requestedTtlSeconds?: number;
  /** Fraction of a token's lifetime after which it is renewed, in [0.1, 0.95]. Default 0.75. */
  readonly renewAt?: number;
  /** Send heartbeats at the interval the authority asks for. Default true. */
  readonly heartbeat?: boolean;
  /** Source of time. Default: the system clock. */
  readonly clock?: Clock;
  /**
   * Channel credentials for the authority and for `agent.client()`. Default: insecure
   * (plaintext), for local development. Against an authority serving TLS, pass
   * `svidChannelCredentials` (`@baton/x509`) expecting `spiffe://<td>/authority`.
   * Agent-to-agent channels (`serve`/`connect`) always use the agent's SVID.
   */
  readonly credentials?: ChannelCredentials;
  /**
   * Resource audience(s) the agent needs its token to name. When given, registration
   * fails with ERR_TOKEN_AUDIENCE_INVALID (and the token is released) if any is missing,
   * so a launch token minted for the wrong resources fails at start-up, not at first use.
   * Default: no check.
   */
  readonly audience?: string | readonly string[];
  /** Environment the launch token is read from (and deleted from). Default: `process.env`. */
  readonly env?: Record<string, string | undefined>;
  /** Timer functions for renewal and heartbeats (tests inject fakes). Default: global timers, unref'd. */
  readonly timers?: AgentTimers;
  /** Deadline of each call the SDK makes to the authority, in ms. Default 10 000. */
  readonly rpcTimeoutMs?: number;
  /** First delay before retrying a failed renewal, in ms; doubles per attempt. Default 1 000. */
  readonly retryInitialDelayMs?: number;
  /** Longest delay between renewal retries, in ms. Default 30 000. */
  readonly retryMaxDelayMs?: number;
  /** Where mTLS handshakes of `serve`/`connect` are audited (`handshake.completed` / `handshake.failed`). Default: none. */
  readonly audit?: AuditSink;
}

/** Defaults of {@link AgentOptions}; each is the safe choice. */
export const AGENT_DEFAULTS = Object.freeze({
  /** Renew after 75 % of the lifetime: a quarter of it is left for retries. */
  renewAt: 0.75,
  /** Heartbeats on: the authority can tell a live agent from a crashed one. */
  heartbeat: true,
  /** Interval used when the authority names none, in seconds. */
  heartbeatIntervalSeconds: 30,
  rpcTimeoutMs: 10_000,
  retryInitialDelayMs: 1_000,
  retryMaxDelayMs: 30_000,
} as const);

/**
 * Options after validation and defaulting. Internal. The launch token is deliberately not
 * here: this object lives as long as the agent, the launch token only until Register.
 */
export interface ResolvedAgentOptions {
  readonly identityTarget: string;
  readonly issuerTarget: string;
  readonly delegationTarget: string;
  readonly name: string | undefined;
  readonly requestedScopes: readonly Scope[];
  readonly requestedTtlSeconds: number;
  readonly renewAt: number;
  readonly heartbeat: boolean;
  readonly clock: Clock;
  readonly credentials: ChannelCredentials;
  readonly audiences: readonly string[];
  readonly env: Record<string, string | undefined>;
  readonly timers: AgentTimers;
  readonly rpcTimeoutMs: number;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  readonly audit: AuditSink | undefined;
}

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

function target(value: unknown, what: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > 1024) {
    throw new TypeError(`${what} must be a non-empty gRPC target such as "localhost:7443"`);
  }
  return value;
}

function intIn(value: unknown, lo: number, hi: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < lo || value > hi) {
    throw new TypeError(`${what} must be an integer in [${lo}, ${hi}]`);
  }
  return value;
}

function auditSinkOf(sink: unknown): AuditSink | undefined {
  if (sink === undefined) return undefined;
  if (typeof (sink as AuditSink | null)?.emit !== 'function') throw new TypeError('audit must have emit()');
  return sink as AuditSink;
}

/** Validates `options` and fills in defaults. Throws TypeError on any mistake. */
export function resolveOptions(options: AgentOptions): ResolvedAgentOptions {
  if (options === null || typeof options !== 'object') throw new TypeError('createAgent: options must be an object');
  const authority = target(options.authority, 'authority');
  const identityTarget = target(options.identity, 'identity') ?? authority;
  const issuerTarget = target(options.issuer, 'issuer') ?? authority;
  if (identityTarget === undefined || issuerTarget === undefined) {
    throw new TypeError('createAgent: give `authority`, or both `identity` and `issuer`');
  }
  if (options.name !== undefined && (typeof options.name !== 'string' || !NAME.test(options.name))) {
    throw new TypeError('name must match [a-z0-9][a-z0-9._-]{0,63}');
  }
  let requestedScopes: readonly Scope[] = [];
  if (options.requestedScopes !== undefined) {
    try {
      requestedScopes = Object.freeze(parseScopes(options.requestedScopes));
    } catch (err) {
      throw new TypeError('requestedScopes: not a valid list of scopes', { cause: err });
    }
  }
  const renewAt = options.renewAt ?? AGENT_DEFAULTS.renewAt;
  if (typeof renewAt !== 'number' || !(renewAt >= 0.1 && renewAt <= 0.95)) {
    throw new TypeError('renewAt must be a fraction in [0.1, 0.95]');
  }
  const audience = options.audience;
  const audiences = audience === undefined ? [] : typeof audience === 'string' ? [audience] : [...audience];
  if (audiences.some((a) => typeof a !== 'string' || a.length === 0)) throw new TypeError('audience must be non-empty strings');
  const clock = options.clock ?? systemClock;
  if (typeof clock?.now !== 'function') throw new TypeError('clock must have now()');
  const timers = options.timers ?? systemTimers;
  if (typeof timers?.setTimeout !== 'function' || typeof timers.clearTimeout !== 'function') {
    throw new TypeError('timers must have setTimeout and clearTimeout');
  }
  if (options.heartbeat !== undefined && typeof options.heartbeat !== 'boolean') throw new TypeError('heartbeat must be a boolean');
  if (options.launchToken !== undefined && typeof options.launchToken !== 'string') {
    throw new TypeError('launchToken must be a string');
  }
  return Object.freeze({
    identityTarget,
    issuerTarget,
    delegationTarget: target(options.delegation, 'delegation') ?? authority ?? issuerTarget,
    name: options.name,
    requestedScopes,
    requestedTtlSeconds: options.requestedTtlSeconds === undefined ? 0 : intIn(options.requestedTtlSeconds, 1, 86_400, 'requestedTtlSeconds'),
    renewAt,
    heartbeat: options.heartbeat ?? AGENT_DEFAULTS.heartbeat,
    clock,
    credentials: options.credentials ?? grpcCredentials.createInsecure(),
    audiences: Object.freeze(audiences),
    env: options.env ?? process.env,
    timers,
    rpcTimeoutMs: intIn(options.rpcTimeoutMs ?? AGENT_DEFAULTS.rpcTimeoutMs, 1, 600_000, 'rpcTimeoutMs'),
    retryInitialDelayMs: intIn(options.retryInitialDelayMs ?? AGENT_DEFAULTS.retryInitialDelayMs, 1, 3_600_000, 'retryInitialDelayMs'),
    retryMaxDelayMs: intIn(options.retryMaxDelayMs ?? AGENT_DEFAULTS.retryMaxDelayMs, 1, 3_600_000, 'retryMaxDelayMs'),
    audit: auditSinkOf(options.audit),
  });
}
