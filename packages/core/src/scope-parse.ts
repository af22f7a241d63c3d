/**
 * Parsing and printing of scopes. Parsing is the trust boundary: everything after it
 * (covers, permits) assumes the normalised shape produced here.
 */
import { BatonError } from './errors.js';
import { canonicalJson } from './json.js';
import type { Constraint, ConstraintValue, Scope } from './scope.js';
import { show } from './scope-constraint.js';
import { MAX_ID_LENGTH, MAX_NAME_LENGTH, isId, isName } from './scope-syntax.js';

/** Limits enforced by {@link parseScope} and {@link parseScopes}. */
export const SCOPE_LIMITS = Object.freeze({
  /** Scopes in one list. */
  maxScopes: 64,
  /** Constraints in one scope. */
  maxConstraints: 16,
  /** Values in one `in` set. */
  maxInValues: 64,
  /** Characters in a string constraint value or prefix. */
  maxStringValue: 256,
});

const CONSTRAINT_KEY = /^[a-z][a-z0-9_]{0,63}$/;
// Valid by the pattern but names of Object.prototype machinery: refused for hygiene.
const RESERVED_KEYS: ReadonlySet<string> = new Set(['constructor', 'prototype']);
const SCOPE_FIELDS: ReadonlySet<string> = new Set(['action', 'resource', 'id', 'constraints']);
const OPERATORS: ReadonlySet<string> = new Set(['eq', 'in', 'max', 'min', 'prefix']);
const MAX_SCOPE_STRING = 2 * MAX_NAME_LENGTH + MAX_ID_LENGTH + 2;

const invalid = (detail: string): never => {
  throw new BatonError('ERR_SCOPE_INVALID', detail);
};

type Rec = Record<string, unknown>;

function isPlainRecord(v: unknown): v is Rec {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const own = (r: Rec, k: string): unknown => (Object.hasOwn(r, k) ? r[k] : undefined);

/**
 * Parse a scope from its string form `action:resource[:id]` or its structured form
 * `{ action, resource, id?, constraints? }`. Unknown fields, malformed names and ids,
 * bad constraint keys (`[a-z][a-z0-9_]{0,63}`), more than 16 constraints, non-finite or
 * out-of-range numbers, mixed-type or oversized `in` sets, `max < min` and contradictory
 * operator types all fail with `ERR_SCOPE_INVALID`. The result is normalised: no
 * undefined members, no empty `constraints`, `in` sets deduplicated and sorted, `-0` as `0`.
 *
 * @example parseScope('read:invoices:acme/*') // { action: 'read', resource: 'invoices', id: 'acme/*' }
 */
export function parseScope(input: unknown): Scope {
  if (typeof input === 'string') return parseScopeString(input);
  if (!isPlainRecord(input)) return invalid('scope must be a string or a plain object');
  for (const k of Object.keys(input)) if (!SCOPE_FIELDS.has(k)) invalid(`unknown scope field ${show(k)}`);
  const action = own(input, 'action');
  const resource = own(input, 'resource');
  const id = own(input, 'id');
  const constraints = own(input, 'constraints');
  if (!isName(action)) invalid('malformed action');
  if (!isName(resource)) invalid('malformed resource');
  const out: Scope = { action: action as string, resource: resource as string };
  if (id !== undefined) {
    if (!isId(id)) invalid('malformed id');
    out.id = id as string;
  }
  if (constraints !== undefined) {
    const parsed = parseConstraints(constraints);
    if (parsed !== undefined) out.constraints = parsed;
  }
  return out;
}

function parseScopeString(s: string): Scope {
  if (s.length > MAX_SCOPE_STRING) invalid('scope too long');
  const parts = s.split(':');
  if (parts.length < 2 || parts.length > 3) invalid('scope must be action:resource[:id]');
  const [action, resource, id] = parts as [string, string, string | undefined];
  if (!isName(action)) invalid('malformed action');
  if (!isName(resource)) invalid('malformed resource');
  if (id === undefined) return { action, resource };
  if (!isId(id)) invalid('malformed id');
  return { action, resource, id };
}

function parseConstraints(raw: unknown): Record<string, Constraint> | undefined {
  if (!isPlainRecord(raw)) return invalid('constraints must be an object');
  const keys = Object.keys(raw);
  if (keys.length > SCOPE_LIMITS.maxConstraints) invalid('too many constraints');
  if (keys.length === 0) return undefined;
  const out: Record<string, Constraint> = {};
  for (const key of keys.sort()) {
    if (!CONSTRAINT_KEY.test(key) || RESERVED_KEYS.has(key)) invalid(`malformed constraint key ${show(key)}`);
    out[key] = parseConstraint(key, raw[key]);
  }
  return out;
}

type ValueType = 'string' | 'number' | 'boolean';

function parseConstraint(key: string, raw: unknown): Constraint {
  if (!isPlainRecord(raw)) return invalid(`constraint ${key} must be an object`);
  const ops = Object.keys(raw);
  if (ops.length === 0) invalid(`constraint ${key} is empty`);
  for (const op of ops) if (!OPERATORS.has(op)) invalid(`unknown operator ${show(op)} on ${key}`);

  // Every operator of one constraint must talk about the same value type; a mix such as
  // { prefix, max } could never be satisfied and only hides a policy mistake.
  let type: ValueType | undefined;
  const expect = (t: ValueType): void => {
    if (type !== undefined && type !== t) invalid(`constraint ${key} mixes ${type} and ${t}`);
    type = t;
  };
  const out: Constraint = {};
  const eq = own(raw, 'eq');
  const set = own(raw, 'in');
  const max = own(raw, 'max');
  const min = own(raw, 'min');
  const prefix = own(raw, 'prefix');
  if (eq !== undefined) {
    out.eq = constraintValue(key, eq);
    expect(typeof out.eq as ValueType);
  }
  if (set !== undefined) {
    if (!Array.isArray(set) || set.length === 0 || set.length > SCOPE_LIMITS.maxInValues) {
      invalid(`in on ${key} must hold 1..${SCOPE_LIMITS.maxInValues} values`);
    }
    const values = (set as unknown[]).map((v) => constraintValue(key, v));
    for (const v of values) expect(typeof v as ValueType);
    out.in = [...new Set(values)].sort(compareValues);
  }
  if (max !== undefined) {
    out.max = finiteNumber(key, max);
    expect('number');
  }
  if (min !== undefined) {
    out.min = finiteNumber(key, min);
    expect('number');
  }
  if (out.max !== undefined && out.min !== undefined && out.max < out.min) invalid(`max below min on ${key}`);
  if (prefix !== undefined) {
    if (typeof prefix !== 'string' || prefix.length > SCOPE_LIMITS.maxStringValue) invalid(`malformed prefix on ${key}`);
    out.prefix = prefix as string;
    expect('string');
  }
  return out;
}

function constraintValue(key: string, v: unknown): ConstraintValue {
  if (typeof v === 'string') {
    if (v.length > SCOPE_LIMITS.maxStringValue) invalid(`string value too long on ${key}`);
    return v;
  }
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return finiteNumber(key, v);
  return invalid(`unsupported value type on ${key}`);
}

// Beyond 2^53 doubles cannot tell adjacent integers apart, so a bound like
// 9007199254740993 would silently become ...992; such numbers are refused.
function finiteNumber(key: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) return invalid(`non-finite number on ${key}`);
  if (Math.abs(v) > Number.MAX_SAFE_INTEGER) invalid(`number out of range on ${key}`);
  return v === 0 ? 0 : v; // -0 → 0
}

function compareValues(a: ConstraintValue, b: ConstraintValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Parse a list of scopes: an array (each element as in {@link parseScope}) or an
 * RFC 6749 space-separated string of string forms (`''` is the empty list). At most 64
 * scopes; fails with `ERR_SCOPE_INVALID`.
 *
 * @example parseScopes('read:invoices:* write:invoices:inv-1').length // 2
 */
export function parseScopes(input: unknown): Scope[] {
  let items: readonly unknown[];
  if (typeof input === 'string') {
    if (input.length > SCOPE_LIMITS.maxScopes * (MAX_SCOPE_STRING + 1)) invalid('scope list too long');
    items = input === '' ? [] : input.split(' ');
  } else if (Array.isArray(input)) {
    items = input;
  } else {
    return invalid('scopes must be an array or a space-separated string');
  }
  if (items.length > SCOPE_LIMITS.maxScopes) invalid('too many scopes');
  return items.map(parseScope);
}

/**
 * The string form `action:resource[:id]` of a scope; constraints are not part of it
 * (see {@link scopeKey} for a form that includes them).
 *
 * @example formatScope({ action: 'read', resource: 'invoices', id: 'inv-1' }) // 'read:invoices:inv-1'
 */
export function formatScope(s: Scope): string {
  return s.id === undefined ? `${s.action}:${s.resource}` : `${s.action}:${s.resource}:${s.id}`;
}

/**
 * A canonical string for a scope including its constraints (canonical JSON of the
 * normalised scope), for deduplication and equality: two scopes have the same key
 * exactly when they grant the same thing syntactically. Throws `ERR_SCOPE_INVALID` on a
 * malformed scope.
 *
 * @example scopeKey({ action: 'pay', resource: 'invoices', constraints: { amount: { max: 10 } } })
 * // '{"action":"pay","constraints":{"amount":{"max":10}},"resource":"invoices"}'
 */
export function scopeKey(s: Scope): string {
  return canonicalJson(parseScope(s));
}
