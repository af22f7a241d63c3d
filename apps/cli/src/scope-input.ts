/**
 * `--scope` values: the string form (`read:invoices:acme/*`) or the structured form as
 * JSON (`{"action":"approve","resource":"payments","constraints":{"amount":{"max":10000}}}`),
 * validated locally with core's parser before anything is sent.
 */
import { formatScope, isBatonError, parseJsonStrict, parseScope, type Constraint, type ConstraintValue, type Scope } from '@baton/core';
import { failure } from './cli-error.js';

const SCOPE_HINT =
  'a scope is `action:resource[:id]` (e.g. read:invoices:acme/*) or JSON, e.g. \'{"action":"approve","resource":"payments","constraints":{"amount":{"max":10000}}}\'';

/** Parses one `--scope` value. ERR_SCOPE_INVALID (or ERR_JSON_INVALID) with a hint. */
export function parseScopeArg(value: string): Scope {
  const text = value.trim();
  try {
    return parseScope(text.startsWith('{') ? parseJsonStrict(text, { maxBytes: 16_384 }) : text);
  } catch (err) {
    if (isBatonError(err)) throw failure(err.code, `--scope ${JSON.stringify(value.length > 200 ? value.slice(0, 200) + '…' : value)}: ${err.detail}`, SCOPE_HINT);
    throw err;
  }
}

/** Parses every `--scope` value. */
export function parseScopeArgs(values: readonly string[]): Scope[] {
  return values.map(parseScopeArg);
}

function showValue(v: ConstraintValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function describeConstraint(key: string, c: Constraint): string[] {
  const out: string[] = [];
  if (c.eq !== undefined) out.push(`${key} = ${showValue(c.eq)}`);
  if (c.in !== undefined) out.push(`${key} in [${c.in.map(showValue).join(', ')}]`);
  if (c.min !== undefined) out.push(`${key} ≥ ${c.min}`);
  if (c.max !== undefined) out.push(`${key} ≤ ${c.max}`);
  if (c.prefix !== undefined) out.push(`${key} starts with ${JSON.stringify(c.prefix)}`);
  return out;
}

/** `approve:payments (amount ≤ 10000)`: the string form plus readable constraints. */
export function describeScope(s: Scope): string {
  const cs = Object.entries(s.constraints ?? {}).flatMap(([k, c]) => describeConstraint(k, c));
  return cs.length ? `${formatScope(s)} (${cs.join(', ')})` : formatScope(s);
}
