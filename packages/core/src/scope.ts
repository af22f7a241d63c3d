/**
 * The scope language: what a token allows (`Scope`), what a request asks (`ScopeRequest`),
 * and the functions over them. Implementation lives in the `scope-*.ts` files.
 *
 * String form `action:resource[:id]`; structured form adds per-attribute constraints:
 *
 * ```ts
 * { action: 'approve', resource: 'invoices', id: 'acme/2024/*',
 *   constraints: { amount: { min: 0, max: 10000 }, currency: { in: ['EUR', 'USD'] } } }
 * ```
 */

/** A value a constraint compares with: strings, finite numbers, booleans. */
export type ConstraintValue = string | number | boolean;

/**
 * Conditions on one request attribute; all present operators must hold.
 *
 * - `eq`: the attribute equals this value (same type).
 * - `in`: the attribute is one of these values (1..64, all of one type).
 * - `max` / `min`: the attribute is a number `<=` / `>=` this bound. Bounds are plain
 *   signed numbers: a negative `max` such as `-1` admits only values `<= -1`; to forbid
 *   negative amounts say `min: 0`. Only finite numbers within ±(2^53 − 1) are accepted,
 *   so a bound never silently rounds.
 * - `prefix`: the attribute is a string starting with this text.
 */
export interface Constraint {
  eq?: ConstraintValue;
  in?: ConstraintValue[];
  max?: number;
  min?: number;
  prefix?: string;
}

/**
 * Authority to perform `action` on `resource` (optionally one `id` or id pattern), under
 * optional per-attribute constraints. `*` as a whole segment matches anything; an id may
 * be a path `a/b/c` where `a/*` covers everything below `a`. A scope without `id`
 * matches only requests without an id; a lone `*` id matches any id and no id.
 */
export interface Scope {
  action: string;
  resource: string;
  id?: string;
  constraints?: Record<string, Constraint>;
}

/** What a request asks for, with the attributes constraints are checked against. */
export interface ScopeRequest {
  action: string;
  resource: string;
  id?: string;
  attributes?: Record<string, ConstraintValue>;
}

export { formatScope, parseScope, parseScopes, scopeKey } from './scope-parse.js';
export { covers, coversAll, explainCovers } from './scope-covers.js';
export { checkRequest, permits } from './scope-permits.js';
