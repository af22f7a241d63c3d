/**
 * Constraint semantics: whether a request attribute satisfies a constraint, and whether
 * one constraint is at least as narrow as another. Both return a precise reason (for the
 * audit log) on failure and `undefined` on success.
 *
 * Soundness rule for narrowing: every parent operator must be implied by the child
 * constraint as a whole, so any value the child admits the parent admits too.
 */
import type { Constraint, ConstraintValue } from './scope.js';

const MAX_SHOWN = 64;

/** Render a value for a reason: numbers and booleans bare, strings JSON-quoted and cut. */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > MAX_SHOWN ? `${v.slice(0, MAX_SHOWN)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return `(${v === null ? 'null' : typeof v})`;
}

const MAX_SHOWN_VALUES = 8;

function showSet(values: readonly unknown[]): string {
  const shown = values.slice(0, MAX_SHOWN_VALUES).map(show);
  if (values.length > MAX_SHOWN_VALUES) shown.push(`…+${values.length - MAX_SHOWN_VALUES}`);
  return `[${shown.join(',')}]`;
}

/** A string, finite number or boolean: the only attribute types constraints compare. */
export function isConstraintValue(v: unknown): v is ConstraintValue {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * Why `value` (the request attribute `key`, undefined when absent) fails constraint `c`,
 * or undefined when it satisfies every operator. Fails closed on malformed operators.
 */
export function constraintViolation(key: string, c: Constraint, value: unknown): string | undefined {
  if (value === undefined) return `missing attribute ${key}`;
  if (!isConstraintValue(value)) return `${key} has unsupported value ${show(value)}`;
  if (c.eq !== undefined && value !== c.eq) return `${key} ${show(value)} is not ${show(c.eq)}`;
  if (c.in !== undefined && !(Array.isArray(c.in) && c.in.includes(value))) {
    return `${key} ${show(value)} not in ${Array.isArray(c.in) ? showSet(c.in) : '[]'}`;
  }
  if (c.max !== undefined || c.min !== undefined) {
    if (typeof value !== 'number') return `${key} ${show(value)} is not a number`;
    // A malformed (non-number) bound fails closed rather than being coerced.
    if (c.max !== undefined && !(typeof c.max === 'number' && value <= c.max)) return `${key} ${show(value)} exceeds max ${show(c.max)}`;
    if (c.min !== undefined && !(typeof c.min === 'number' && value >= c.min)) return `${key} ${show(value)} below min ${show(c.min)}`;
  }
  if (c.prefix !== undefined) {
    if (typeof value !== 'string' || typeof c.prefix !== 'string' || !value.startsWith(c.prefix)) {
      return `${key} ${show(value)} lacks prefix ${show(c.prefix)}`;
    }
  }
  return undefined;
}

const allOf = (values: readonly ConstraintValue[] | undefined, test: (v: ConstraintValue) => boolean): boolean =>
  values !== undefined && values.every(test);

/**
 * Why child constraint `c` (undefined when the child dropped it) is wider than parent
 * constraint `p` on `key`, or undefined when every value `c` admits `p` admits too.
 */
export function narrowingFailure(key: string, p: Constraint, c: Constraint | undefined): string | undefined {
  if (c === undefined) return `dropped constraint ${key}`;
  const { eq, in: set, max, min, prefix } = c;

  if (p.eq !== undefined) {
    if (!(eq === p.eq || allOf(set, (v) => v === p.eq))) {
      if (eq !== undefined) return `changed ${key} ${show(p.eq)} → ${show(eq)}`;
      if (set !== undefined) return `widened ${key} ${show(p.eq)} → ${showSet(set)}`;
      return `dropped eq on ${key}`;
    }
  }
  if (p.in !== undefined) {
    const parentSet = p.in;
    if (!((eq !== undefined && parentSet.includes(eq)) || allOf(set, (v) => parentSet.includes(v)))) {
      if (set !== undefined) return `in set enlarged ${key} ${showSet(parentSet)} → ${showSet(set)}`;
      if (eq !== undefined) return `${key} ${show(eq)} outside ${showSet(parentSet)}`;
      return `dropped in on ${key}`;
    }
  }
  if (p.max !== undefined) {
    const bound = p.max;
    const within = (v: ConstraintValue): boolean => typeof v === 'number' && v <= bound;
    if (!((max !== undefined && max <= bound) || (eq !== undefined && within(eq)) || allOf(set, within))) {
      if (max !== undefined) return `widened ${key} ${show(bound)} → ${show(max)}`;
      if (eq !== undefined) return `${key} ${show(eq)} exceeds max ${show(bound)}`;
      if (set !== undefined) return `${key} ${showSet(set)} exceeds max ${show(bound)}`;
      return `dropped max on ${key}`;
    }
  }
  if (p.min !== undefined) {
    const bound = p.min;
    const within = (v: ConstraintValue): boolean => typeof v === 'number' && v >= bound;
    if (!((min !== undefined && min >= bound) || (eq !== undefined && within(eq)) || allOf(set, within))) {
      if (min !== undefined) return `lowered ${key} ${show(bound)} → ${show(min)}`;
      if (eq !== undefined) return `${key} ${show(eq)} below min ${show(bound)}`;
      if (set !== undefined) return `${key} ${showSet(set)} below min ${show(bound)}`;
      return `dropped min on ${key}`;
    }
  }
  if (p.prefix !== undefined) {
    const pre = p.prefix;
    const within = (v: ConstraintValue): boolean => typeof v === 'string' && v.startsWith(pre);
    if (!((prefix !== undefined && prefix.startsWith(pre)) || (eq !== undefined && within(eq)) || allOf(set, within))) {
      if (prefix !== undefined) {
        return `prefix ${pre.startsWith(prefix) ? 'shortened' : 'changed'} ${key} ${show(pre)} → ${show(prefix)}`;
      }
      if (eq !== undefined) return `${key} ${show(eq)} lacks prefix ${show(pre)}`;
      if (set !== undefined) return `${key} ${showSet(set)} lacks prefix ${show(pre)}`;
      return `dropped prefix on ${key}`;
    }
  }
  return undefined;
}
