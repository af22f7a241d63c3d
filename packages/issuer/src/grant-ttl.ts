import { BatonError } from '@baton/core';
import type { ResolvedTtl } from './options.js';

/** Inputs of {@link grantTtl}; seconds throughout, 0 = "not set". */
export interface TtlRequest {
  readonly requested: number;
  /** Workflow policy default TTL. */
  readonly policyDefault: number;
  /** Workflow policy maximum TTL. */
  readonly policyMax: number;
  /** Task deadline (NumericDate). */
  readonly deadline: number;
  /** Another absolute bound (e.g. a delegated token's hop expiry). */
  readonly capExp?: number;
  readonly now: number;
}

/** What was granted: always returned to the caller explicitly. */
export interface TtlGrant {
  readonly ttl: number;
  readonly exp: number;
  /** The policy maximum that was applied (after the issuer's own ceiling). */
  readonly maxTtl: number;
  /** The policy default that was applied. */
  readonly defaultTtl: number;
}

/**
 * The TTL rule: requested, else the policy default, else the issuer default; then capped
 * by the policy maximum (itself capped by the issuer's ceiling), by the task deadline and
 * by `capExp`. A deadline at or before now is ERR_TASK_DEADLINE_PASSED; a `capExp` already
 * reached is ERR_DELEGATION_EXPIRY_EXCEEDED. Capping is not an error: the caller learns
 * the granted TTL from the response.
 */
export function grantTtl(r: TtlRequest, bounds: ResolvedTtl): TtlGrant {
  const maxTtl = Math.min(r.policyMax > 0 ? r.policyMax : bounds.maxTtlSeconds, bounds.maxTtlSeconds);
  const defaultTtl = Math.min(r.policyDefault > 0 ? r.policyDefault : bounds.defaultTtlSeconds, maxTtl);
  if (r.deadline <= r.now) throw new BatonError('ERR_TASK_DEADLINE_PASSED', `deadline ${r.deadline} not after now ${r.now}`);
  if (r.capExp !== undefined && r.capExp <= r.now) throw new BatonError('ERR_DELEGATION_EXPIRY_EXCEEDED', `delegation expired at ${r.capExp}`);
  let ttl = Math.min(r.requested > 0 ? r.requested : defaultTtl, maxTtl, r.deadline - r.now);
  if (r.capExp !== undefined) ttl = Math.min(ttl, r.capExp - r.now);
  return { ttl, exp: r.now + ttl, maxTtl, defaultTtl };
}
