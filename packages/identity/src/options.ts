/**
 * Options of {@link createIdentity} and their defaults. Every default is the safe
 * choice: shortest lifetimes, bounded tables, revocation on by policy only where the
 * operator asked for it.
 */
import type { AuditSink, Clock, KeyPair } from '@baton/core';
import type { IdentityCa } from './identity-ca.js';
import type { Guard } from '@baton/guard';
import type { Client, IssuerService } from './proto.js';
import type { SqlDatabase } from '@baton/store';

/** Where identity counts security-relevant events (KPI instruments by default). */
export interface IdentityMeter {
  /** A launch token was presented again after it was used. */
  launchTokenReplay(): void;
  /** An agent missed `misses` heartbeats and was flagged. */
  heartbeatMissed(misses: number): void;
}

/** Options of {@link createIdentity}. */
export interface IdentityOptions {
  /** Shared store; identity keeps its own `identity_` tables in it. */
  readonly db: SqlDatabase;
  /** Trust domain of agent SPIFFE ids, e.g. `baton.local`. */
  readonly trustDomain: string;
  /** The authority audience (the issuer's `iss`), e.g. `spiffe://baton.local/authority`. */
  readonly issuer: string;
  /** IssuerService over gRPC: identity never imports the issuer's internals. */
  readonly issuerClient: Client<typeof IssuerService>;
  /** Identity's own key; the issuer trusts its thumbprint as the `identity` service. */
  readonly serviceKey: KeyPair;
  /** Operator key thumbprints (RFC 7638) → operator id. */
  readonly operators: ReadonlyMap<string, string>;
  /** Baton service key thumbprints → service name (e.g. `delegation`): callers of GetAgent. Default: none. */
  readonly services?: ReadonlyMap<string, string>;
  /** Verifies agents' DPoP-bound access tokens (Heartbeat, Publish, Resolve defaults). */
  readonly guard: Guard;
  /** Where credential events go. Default: records nothing. */
  readonly audit?: AuditSink;
  /** Injected time. Default: the system clock. */
  readonly clock?: Clock;
  /** Security counters. Default: the `@baton/telemetry` KPI instruments. */
  readonly meter?: IdentityMeter;
  /** Interval of the background sweeper (heartbeats, pending revocations, pruning). 0 disables the timer; call `sweep()` yourself. Default 5000 ms. */
  readonly sweepIntervalMs?: number;
  /** Live challenges kept at most; beyond it GetChallenge answers ERR_RATE_LIMITED. Default 100 000. */
  readonly maxOutstandingChallenges?: number;
  /** How long used or expired launch tokens are kept, so a late replay is still reported as one. Default 600 000 ms. */
  readonly launchTokenRetentionMs?: number;
  /** How long agent records are kept after their task deadline. Default 3 600 000 ms. */
  readonly agentRetentionMs?: number;
  /** How long the issuer's JWKS is cached for GetTrustBundle. Default 30 000 ms. */
  readonly trustBundleCacheMs?: number;
  /** `refresh_hint_seconds` in the trust bundle. Default 60. */
  readonly trustBundleRefreshHintSeconds?: number;
  /**
   * The identity CA that issues X.509-SVIDs at Register and RenewSvid and whose
   * certificates fill the trust bundle's `x509_authorities`. Default: none (no SVIDs).
   */
  readonly ca?: IdentityCa;
  /** Audit checkpoint verifier keys (C2SP signed-note form), published in the trust bundle. Default: none. */
  readonly logAuthorities?: readonly string[];
  /** Longest SVID lifetime (the task deadline caps it further). Default 900. */
  readonly svidTtlSeconds?: number;
}

/** The defaults of {@link IdentityOptions}. */
export const IDENTITY_DEFAULTS = Object.freeze({
  sweepIntervalMs: 5000,
  maxOutstandingChallenges: 100_000,
  launchTokenRetentionMs: 600_000,
  agentRetentionMs: 3_600_000,
  trustBundleCacheMs: 30_000,
  trustBundleRefreshHintSeconds: 60,
  /** SVID lifetime: short, renewed by the agent at half-life. */
  svidTtlSeconds: 900,
  /** Launch-token lifetime: the hard cap (DESIGN.md §2). */
  launchTokenTtlSeconds: 30,
  /** Challenge lifetime. */
  challengeTtlSeconds: 30,
  /** Workflows per ListWorkflows page when none is asked for, and the largest page. */
  pageSize: 50,
  maxPageSize: 500,
});

/** Numeric options after defaults were applied. */
export interface ResolvedLimits {
  readonly sweepIntervalMs: number;
  readonly maxOutstandingChallenges: number;
  readonly launchTokenRetentionMs: number;
  readonly agentRetentionMs: number;
  readonly trustBundleCacheMs: number;
  readonly trustBundleRefreshHintSeconds: number;
  readonly svidTtlSeconds: number;
}

function nonNegInt(v: number | undefined, name: string, dflt: number, min = 0): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < min) throw new TypeError(`createIdentity: ${name} must be an integer ≥ ${min}`);
  return v;
}

/** Checks the options (TypeError on a programming mistake) and applies defaults. */
export function resolveLimits(o: IdentityOptions): ResolvedLimits {
  if (typeof o !== 'object' || o === null) throw new TypeError('createIdentity: options required');
  if (!o.db || typeof o.db.transaction !== 'function') throw new TypeError('createIdentity: db must be a SqlDatabase');
  if (typeof o.trustDomain !== 'string' || !/^[a-z0-9._-]{1,255}$/.test(o.trustDomain)) throw new TypeError('createIdentity: trustDomain is malformed');
  if (typeof o.issuer !== 'string' || o.issuer.length === 0) throw new TypeError('createIdentity: issuer required');
  if (!o.issuerClient) throw new TypeError('createIdentity: issuerClient required');
  if (!o.serviceKey || typeof o.serviceKey.thumbprint !== 'string') throw new TypeError('createIdentity: serviceKey must be a KeyPair');
  if (!(o.operators instanceof Map)) throw new TypeError('createIdentity: operators must be a Map');
  if (o.services !== undefined && !(o.services instanceof Map)) throw new TypeError('createIdentity: services must be a Map');
  if (!o.guard || typeof o.guard.check !== 'function') throw new TypeError('createIdentity: guard required');
  if (o.ca !== undefined && (typeof o.ca.issue !== 'function' || o.ca.trustDomain !== o.trustDomain)) throw new TypeError('createIdentity: ca must be an IdentityCa of the same trust domain');
  return Object.freeze({
    sweepIntervalMs: nonNegInt(o.sweepIntervalMs, 'sweepIntervalMs', IDENTITY_DEFAULTS.sweepIntervalMs),
    maxOutstandingChallenges: nonNegInt(o.maxOutstandingChallenges, 'maxOutstandingChallenges', IDENTITY_DEFAULTS.maxOutstandingChallenges, 1),
    launchTokenRetentionMs: nonNegInt(o.launchTokenRetentionMs, 'launchTokenRetentionMs', IDENTITY_DEFAULTS.launchTokenRetentionMs),
    agentRetentionMs: nonNegInt(o.agentRetentionMs, 'agentRetentionMs', IDENTITY_DEFAULTS.agentRetentionMs),
    trustBundleCacheMs: nonNegInt(o.trustBundleCacheMs, 'trustBundleCacheMs', IDENTITY_DEFAULTS.trustBundleCacheMs),
    trustBundleRefreshHintSeconds: nonNegInt(o.trustBundleRefreshHintSeconds, 'trustBundleRefreshHintSeconds', IDENTITY_DEFAULTS.trustBundleRefreshHintSeconds),
    svidTtlSeconds: nonNegInt(o.svidTtlSeconds, 'svidTtlSeconds', IDENTITY_DEFAULTS.svidTtlSeconds, 60),
  });
}
