/**
 * Options of {@link createGuard} and their defaults. Every default is the safe choice:
 * proof of possession required, 30 s leeway, bounded caches, fail closed.
 */
import type { Clock, ErrorCode, ReplayCache } from '@baton/core';
import type { Decision, DecisionInfo } from './decision.js';
import type { KeySource } from './key-source.js';
import type { ChainVerifier, Introspector, RevocationView } from './plugins.js';

/**
 * `required`: every token must be used with proof of possession (DPoP proof for
 * `cnf.jkt`, matching client certificate for `cnf["x5t#S256"]`).
 * `bearer-allowed`: a token without proof is accepted, flagged on the decision
 * (`bearer: true`) and counted. A proof that is presented is always verified.
 */
export type ProofMode = 'required' | 'bearer-allowed';

/** Per-route options, passed with each check. */
export interface RouteOptions {
  /** Call the introspector online on every request (no caching). Default false. */
  readonly highAssurance?: boolean;
  /**
   * Allow a check without a scope request (authentication only, e.g. Heartbeat).
   * Default false: a check without `request` is denied with ERR_SCOPE_DENIED.
   */
  readonly authenticateOnly?: boolean;
  /** Overrides the guard's proof mode for this route. */
  readonly proof?: ProofMode;
}

/** One decision, as reported to a {@link GuardMeter}. */
export interface DecisionMetric {
  readonly allow: boolean;
  readonly code?: ErrorCode;
  readonly bearer: boolean;
  readonly depth: number;
  readonly durationMs: number;
}

/** Metrics hook (KPI instruments). Must not throw; errors are swallowed. */
export interface GuardMeter {
  recordDecision(metric: DecisionMetric): void;
}

/** Options of {@link createGuard}. */
export interface GuardOptions {
  /** This resource server's audience; a token's `aud` must contain it (or one of them). */
  readonly audience: string | readonly string[];
  /** The expected `iss` (the authority, e.g. `spiffe://baton.local/authority`). */
  readonly issuer: string;
  /** Token-signing keys of the issuer. */
  readonly keys: KeySource;
  /** Clock-skew tolerance for `exp`/`nbf`, seconds. Default 30. */
  readonly leewaySeconds?: number;
  /** Proof-of-possession mode. Default `required`. */
  readonly proof?: ProofMode;
  /** Oldest proof `iat` accepted, seconds. Default 60. */
  readonly proofMaxAgeSeconds?: number;
  /** Largest access token accepted, bytes. Default 8192 (ERR_TOKEN_TOO_LARGE above). */
  readonly maxTokenBytes?: number;
  /** Revocation view (e.g. {@link createRevocationFeed}). Without one, only expiry ends tokens. */
  readonly revocation?: RevocationView;
  /** Delegation-chain verifier; delegated tokens are denied (ERR_CHAIN_INVALID) without one. */
  readonly chain?: ChainVerifier;
  /** Online check for routes with `highAssurance`. Such routes fail closed without one. */
  readonly highAssurance?: Introspector;
  /** Time source. Default the system clock. */
  readonly clock?: Clock;
  /** Proof replay cache (bounded). Default a fresh cache of 100 000 entries. */
  readonly replayCache?: ReplayCache;
  /** Verified tokens kept (LRU, keyed by token; each dropped once expired, exp + leeway). Default 10 000; 0 disables. */
  readonly tokenCacheSize?: number;
  /** Holder public keys kept (LRU, keyed by JWK `x`; each dropped once no token it proved for is usable). Default 10 000. */
  readonly keyCacheSize?: number;
  /** Minimum interval between key refreshes triggered by an unknown `kid`, ms. Default 10 000. */
  readonly keyRefreshIntervalMs?: number;
  /** Called after every decision (audit). Must not throw; never awaited. */
  readonly onDecision?: (decision: Decision, info: DecisionInfo) => void | Promise<void>;
  /** Metrics hook. Default {@link kpiGuardMeter} (Baton's KPI instruments; no-op until metrics are set up). */
  readonly meter?: GuardMeter;
}

/** The defaults of {@link GuardOptions}. */
export const DEFAULT_GUARD_OPTIONS = Object.freeze({
  /** 30 s clock-skew tolerance for `exp`/`nbf`. */
  leewaySeconds: 30,
  /** Proof of possession on every request. */
  proof: 'required' as ProofMode,
  /** Proofs older than 60 s are stale. */
  proofMaxAgeSeconds: 60,
  /** 8 KB: other gRPC stacks reject larger metadata; by-reference tokens stay far below. */
  maxTokenBytes: 8192,
  /** Verified-token LRU size. */
  tokenCacheSize: 10_000,
  /** Holder-key LRU size. */
  keyCacheSize: 10_000,
  /** Replay-cache bound (entries) when the guard makes its own. */
  replayCacheSize: 100_000,
  /** At most one unknown-kid key refresh per 10 s. */
  keyRefreshIntervalMs: 10_000,
});

/** Options with every default applied. */
export interface ResolvedGuardOptions {
  readonly audiences: readonly string[];
  readonly issuer: string;
  readonly leewaySeconds: number;
  readonly proof: ProofMode;
  readonly proofMaxAgeSeconds: number;
  readonly maxTokenBytes: number;
  readonly tokenCacheSize: number;
  readonly keyCacheSize: number;
  readonly keyRefreshIntervalMs: number;
}

function nonNegInt(v: unknown, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new TypeError(`${name} must be a non-negative integer`);
  return v;
}

/** Validates options (TypeError on a programming mistake) and applies defaults. */
export function resolveGuardOptions(o: GuardOptions): ResolvedGuardOptions {
  if (typeof o !== 'object' || o === null) throw new TypeError('createGuard: options required');
  const audiences = typeof o.audience === 'string' ? [o.audience] : Array.isArray(o.audience) ? [...(o.audience as readonly string[])] : [];
  if (audiences.length === 0 || audiences.some((a) => typeof a !== 'string' || a.length === 0)) {
    throw new TypeError('createGuard: audience must be a non-empty string or array of strings');
  }
  if (typeof o.issuer !== 'string' || o.issuer.length === 0) throw new TypeError('createGuard: issuer must be a non-empty string');
  if (typeof o.keys !== 'object' || o.keys === null || typeof o.keys.key !== 'function') throw new TypeError('createGuard: keys must be a KeySource');
  const proof = o.proof ?? DEFAULT_GUARD_OPTIONS.proof;
  if (proof !== 'required' && proof !== 'bearer-allowed') throw new TypeError("createGuard: proof must be 'required' or 'bearer-allowed'");
  const proofMaxAgeSeconds = nonNegInt(o.proofMaxAgeSeconds, 'proofMaxAgeSeconds', DEFAULT_GUARD_OPTIONS.proofMaxAgeSeconds);
  const maxTokenBytes = nonNegInt(o.maxTokenBytes, 'maxTokenBytes', DEFAULT_GUARD_OPTIONS.maxTokenBytes);
  if (proofMaxAgeSeconds === 0 || maxTokenBytes === 0) throw new TypeError('createGuard: proofMaxAgeSeconds and maxTokenBytes must be positive');
  if (o.chain !== undefined && typeof o.chain.verify !== 'function') throw new TypeError('createGuard: chain must be a ChainVerifier');
  if (o.revocation !== undefined && typeof o.revocation.check !== 'function') throw new TypeError('createGuard: revocation must be a RevocationView');
  if (o.highAssurance !== undefined && typeof o.highAssurance.introspect !== 'function') throw new TypeError('createGuard: highAssurance must be an Introspector');
  return Object.freeze({
    audiences: Object.freeze(audiences),
    issuer: o.issuer,
    leewaySeconds: nonNegInt(o.leewaySeconds, 'leewaySeconds', DEFAULT_GUARD_OPTIONS.leewaySeconds),
    proof,
    proofMaxAgeSeconds,
    maxTokenBytes,
    tokenCacheSize: nonNegInt(o.tokenCacheSize, 'tokenCacheSize', DEFAULT_GUARD_OPTIONS.tokenCacheSize),
    keyCacheSize: nonNegInt(o.keyCacheSize, 'keyCacheSize', DEFAULT_GUARD_OPTIONS.keyCacheSize),
    keyRefreshIntervalMs: nonNegInt(o.keyRefreshIntervalMs, 'keyRefreshIntervalMs', DEFAULT_GUARD_OPTIONS.keyRefreshIntervalMs),
  });
}
