/**
 * Checking a concrete request against the scopes a token carries. Requests are built by
 * resource servers from untrusted input, so a malformed request is denied, never thrown.
 */
import type { Scope, ScopeRequest } from './scope.js';
import { constraintViolation } from './scope-constraint.js';
import { idCovers, isId, isName, nameCovers } from './scope-syntax.js';

function wellFormed(r: ScopeRequest): boolean {
  if (typeof r !== 'object' || r === null) return false;
  if (!isName(r.action) || !isName(r.resource)) return false;
  if (r.id !== undefined && !isId(r.id)) return false;
  return r.attributes === undefined || (typeof r.attributes === 'object' && r.attributes !== null);
}

// The request target is checked with the same rule as attenuation, so whatever a child
// scope permits its parent permits too.
function targets(scope: Scope, r: ScopeRequest): boolean {
  return nameCovers(scope.action, r.action) && nameCovers(scope.resource, r.resource) && idCovers(scope.id, r.id);
}

/** Why the request's attributes fail the scope's constraints, or undefined. */
function violation(scope: Scope, r: ScopeRequest): string | undefined {
  const cs = scope.constraints;
  if (cs === undefined) return undefined;
  const attrs = r.attributes;
  for (const key of Object.keys(cs)) {
    const value = attrs !== undefined && Object.hasOwn(attrs, key) ? attrs[key] : undefined;
    const why = constraintViolation(key, cs[key]!, value);
    if (why !== undefined) return why;
  }
  return undefined;
}

/**
 * True when `scope` allows `request`: action, resource and id match (with `*` and id
 * path rules as in {@link covers}) and every constraint holds for
 * `request.attributes[key]`. A missing attribute, a value of the wrong type, a
 * non-finite number or a malformed request means not permitted.
 *
 * @example permits(parseScope({ action: 'pay', resource: 'invoices', constraints: { amount: { max: 5000 } } }),
 *   { action: 'pay', resource: 'invoices', attributes: { amount: 6000 } }) // false
 */
export function permits(scope: Scope, request: ScopeRequest): boolean {
  return wellFormed(request) && targets(scope, request) && violation(scope, request) === undefined;
}

/**
 * Decide a request against a token's scopes: the first scope that permits it, else
 * `ERR_CONSTRAINT_VIOLATED` when some scope targets the request but a constraint fails
 * (reason e.g. `amount 6000 exceeds max 5000`), else `ERR_SCOPE_DENIED`.
 *
 * @example checkRequest(scopes, { action: 'read', resource: 'invoices', id: 'inv-1' })
 */
export function checkRequest(
  scopes: readonly Scope[],
  request: ScopeRequest,
): { ok: true; scope: Scope } | { ok: false; code: 'ERR_SCOPE_DENIED' | 'ERR_CONSTRAINT_VIOLATED'; reason: string } {
  if (!wellFormed(request)) return { ok: false, code: 'ERR_SCOPE_DENIED', reason: 'malformed request' };
  let constraintReason: string | undefined;
  for (const scope of scopes) {
    if (!targets(scope, request)) continue;
    const why = violation(scope, request);
    if (why === undefined) return { ok: true, scope };
    constraintReason ??= why;
  }
  if (constraintReason !== undefined) return { ok: false, code: 'ERR_CONSTRAINT_VIOLATED', reason: constraintReason };
  const target = request.id === undefined ? `${request.action}:${request.resource}` : `${request.action}:${request.resource}:${request.id}`;
  return { ok: false, code: 'ERR_SCOPE_DENIED', reason: `no scope grants ${target}` };
}
