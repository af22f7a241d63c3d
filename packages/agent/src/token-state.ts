/**
 * The agent's view of its current access token. The agent does not verify its own token
 * (resources do that against the authority's keys); it only reads the claims it needs to
 * schedule renewal and to answer `agent.scopes`, and refuses anything malformed.
 */
import { BatonError, decodeJws, isBatonError, parseAccessTokenClaims, scopesOfClaims } from '@baton/core';
import type { Clock, Scope } from '@baton/core';

/** One access token and the facts derived from it. Immutable; renewal replaces it. */
export interface TokenState {
  readonly token: string;
  readonly jti: string;
  /** SPIFFE id (`sub`). */
  readonly spiffeId: string;
  readonly audiences: readonly string[];
  readonly scopes: readonly Scope[];
  /** Key thumbprint the token is bound to (`cnf.jkt`). */
  readonly jkt: string | undefined;
  /** Token lifetime granted by the authority, in seconds (`exp - iat`). */
  readonly ttlSeconds: number;
  /** `exp`, in ms. */
  readonly expiresAtMs: number;
  /** `tdl`: the task deadline, in ms. */
  readonly taskDeadlineMs: number;
  /** Local clock when the token arrived, in ms. */
  readonly receivedAtMs: number;
  /** Renewal count (`rnw`). */
  readonly renewals: number;
}

/**
 * Reads a freshly received access token. ERR_TOKEN_MALFORMED if the authority sent
 * something that is not a Baton access token (the agent must not run on it).
 */
export function readTokenState(token: string, clock: Clock): TokenState {
  let claims;
  try {
    claims = parseAccessTokenClaims(decodeJws(token).payload);
  } catch (err) {
    throw new BatonError('ERR_TOKEN_MALFORMED', `authority returned an unreadable token: ${isBatonError(err) ? err.code : 'error'}`);
  }
  const audiences = typeof claims.aud === 'string' ? [claims.aud] : [...claims.aud];
  return Object.freeze({
    token,
    jti: claims.jti,
    spiffeId: claims.sub,
    audiences: Object.freeze(audiences),
    scopes: Object.freeze(scopesOfClaims(claims)),
    jkt: claims.cnf.jkt,
    ttlSeconds: Math.max(0, claims.exp - claims.iat),
    expiresAtMs: claims.exp * 1000,
    taskDeadlineMs: claims.tdl * 1000,
    receivedAtMs: clock.now(),
    renewals: claims.rnw,
  });
}

/**
 * When to renew `state`: after `fraction` of its lifetime, measured both from local
 * receipt and back from `exp` (whichever is earlier), so a skewed local clock renews
 * early rather than late.
 */
export function renewalDueAt(state: TokenState, fraction: number): number {
  const ttlMs = state.ttlSeconds * 1000;
  const fromReceipt = state.receivedAtMs + fraction * ttlMs;
  const fromExpiry = state.expiresAtMs - (1 - fraction) * ttlMs;
  return Math.min(fromReceipt, fromExpiry);
}
