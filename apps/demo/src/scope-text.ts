/**
 * Scopes as people read them: `approve:payments (amount ≤ 5000)`.
 */
import { formatScope } from '@baton/core';
import type { Constraint, Scope } from '@baton/core';

function constraintText(key: string, c: Constraint): string[] {
  const out: string[] = [];
  if (c.eq !== undefined) out.push(`${key} = ${String(c.eq)}`);
  if (c.in !== undefined) out.push(`${key} ∈ {${c.in.map(String).join(', ')}}`);
  if (c.min !== undefined) out.push(`${key} ≥ ${c.min}`);
  if (c.max !== undefined) out.push(`${key} ≤ ${c.max}`);
  if (c.prefix !== undefined) out.push(`${key} starts with ${c.prefix}`);
  return out;
}

/** `action:resource[:id]` plus its constraints in brackets. */
export function describeScope(scope: Scope): string {
  const parts = Object.entries(scope.constraints ?? {}).flatMap(([k, c]) => constraintText(k, c));
  return parts.length > 0 ? `${formatScope(scope)} (${parts.join(', ')})` : formatScope(scope);
}

/** A list of scopes, comma-separated. */
export function describeScopes(scopes: readonly Scope[]): string {
  return scopes.map(describeScope).join(', ');
}
