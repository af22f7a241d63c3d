/**
 * The plug-in contracts the guard pipeline calls: the revocation view (pushed state from
 * the issuer), the delegation-chain verifier and the online introspector for
 * high-assurance routes. Each is optional; the guard fails closed where one is needed
 * but absent.
 */
import type { AccessTokenClaims, ErrorCode } from '@baton/core';
import type { KeySource } from './key-source.js';

/** What a revocation view may need beyond the claims. */
export interface RevocationContext {
  /** The `kid` the token was signed under (KEY-level revocations). */
  readonly kid?: string;
  /** Hop hashes of the token's delegation chain (HOP-level revocations). */
  readonly hopHashes?: readonly string[];
  /** SPIFFE ids of the delegating agents (AGENT revocations of any link kill the chain). */
  readonly agents?: readonly string[];
}

/**
 * The guard's local view of revocations. `check` runs on every request, so it must be a
 * few map lookups: no I/O.
 */
export interface RevocationView {
  /**
   * `undefined` when nothing revokes the token; otherwise ERR_TOKEN_REVOKED,
   * ERR_TOKEN_RELEASED, ERR_TOKEN_KEY_REVOKED, ERR_CHAIN_REVOKED or ERR_REVOCATION_STALE
   * (the view is older than its staleness bound: fail closed).
   */
  check(claims: AccessTokenClaims, context?: RevocationContext): ErrorCode | undefined;
  /** Optional precise why-denied for the audit log, called only after `check` denied. */
  explain?(claims: AccessTokenClaims, context?: RevocationContext): string | undefined;
}

/** Input of a {@link ChainVerifier}. */
export interface ChainInput {
  /** The compact access token. */
  readonly token: string;
  /** Its verified claims (carry `del` and `act`). */
  readonly claims: AccessTokenClaims;
  /** The `kid` the token was signed under. */
  readonly kid: string;
  /** The authority's token-signing keys (hops are countersigned by the authority). */
  readonly keys: KeySource;
  readonly nowMs: number;
  readonly leewaySeconds: number;
}

/** What a successful chain verification reports. */
export interface ChainResult {
  /** Delegation depth (number of hops). */
  readonly depth: number;
  /** SPIFFE ids from the root holder to the final delegator. */
  readonly agents: readonly string[];
  /** Hop hashes, re-checked against the revocation view (HOP level). */
  readonly hopHashes?: readonly string[];
  /** Chain hash, for the audit entry. */
  readonly chainHash?: string;
}

/**
 * Verifies a delegated token's chain (provided by `@baton/delegation`). Throws a
 * `BatonError` (ERR_CHAIN_*) when the chain does not hold.
 */
export interface ChainVerifier {
  verify(input: ChainInput): ChainResult | Promise<ChainResult>;
}

/** Result of an online introspection. */
export interface IntrospectionResult {
  readonly active: boolean;
  /** Stable code explaining inactivity (e.g. ERR_TOKEN_REVOKED). */
  readonly code?: string;
}

/** Online check for high-assurance routes: called on every such request, never cached. */
export interface Introspector {
  introspect(token: string): Promise<IntrospectionResult>;
}
