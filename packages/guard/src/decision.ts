/**
 * What a guard check returns. An allow carries who is calling and with what authority;
 * a deny carries a stable code for the caller and a precise reason for the audit log.
 */
import type { AccessTokenClaims, ErrorCode, Scope, ScopeRequest } from '@baton/core';
import type { RouteOptions } from './guard-options.js';

/** The request a guard checks. Tokens and proofs are untrusted; the rest is the app's. */
export interface GuardCheckInput {
  /** The access token (compact JWS), as received. */
  readonly token?: string | undefined;
  /** The DPoP proof (compact JWS), as received. */
  readonly proof?: string | undefined;
  /** HTTP method (`POST` for gRPC). */
  readonly htm: string;
  /** Target URI: scheme+host+path for HTTP, the method path for gRPC. */
  readonly htu: string;
  /** What the caller wants to do; checked against the token's scopes. */
  readonly request?: ScopeRequest | undefined;
  /** base64url SHA-256 of the client certificate on mTLS (RFC 8705 binding). */
  readonly certificateThumbprint?: string | undefined;
  /** Per-route options. */
  readonly route?: RouteOptions | undefined;
}

/** The request is allowed. */
export interface AllowDecision {
  readonly allow: true;
  readonly claims: AccessTokenClaims;
  /** kid of the issuer key the token verified under. */
  readonly kid: string;
  /** The token's scopes (structured). */
  readonly scopes: readonly Scope[];
  /** The scope that permitted the request (absent on authenticate-only routes). */
  readonly matched?: Scope;
  /** SPIFFE id of the calling agent instance. */
  readonly subject: string;
  /** The original principal the task runs for. */
  readonly principal: string;
  /** Delegation depth (0 for a token issued at registration). */
  readonly depth: number;
  /** Agents from the root holder to the final delegator (empty at depth 0). */
  readonly agents: readonly string[];
  /** True when the token was accepted without demonstrating possession (bearer mode). */
  readonly bearer: boolean;
  /** Thumbprint of the key that signed the proof, when one was checked. */
  readonly jkt?: string;
}

/** The request is denied. */
export interface DenyDecision {
  readonly allow: false;
  /** Stable code; the caller sees only this code and its generic title. */
  readonly code: ErrorCode;
  /** The precise why-denied, for the audit log only: never send it to the caller. */
  readonly reason: string;
}

/** Outcome of `guard.check`. */
export type Decision = AllowDecision | DenyDecision;

/** Context passed to the `onDecision` hook alongside the decision (for audit). */
export interface DecisionInfo {
  readonly htm: string;
  readonly htu: string;
  readonly request?: ScopeRequest | undefined;
  /** The token's claims once its signature verified (also on most denials). */
  readonly claims?: AccessTokenClaims | undefined;
  /** Token size in bytes, when one was presented. */
  readonly tokenBytes?: number | undefined;
  /**
   * The access token as presented (a credential: never log or store it). Lets a hook
   * hand the authority evidence it can verify, e.g. the anomaly reporter.
   */
  readonly token?: string | undefined;
  /** Chain hash of a delegated token, when its chain verified. */
  readonly chainHash?: string | undefined;
  /** Wall time the check took, in milliseconds. */
  readonly durationMs: number;
}
