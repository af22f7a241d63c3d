/**
 * Attenuation: the one rule deciding whether a scope is within another. Used by the
 * issuer (renewal, launch ceilings), delegation (every hop) and the guard (chains).
 */
import type { Constraint, Scope } from './scope.js';
import { narrowingFailure } from './scope-constraint.js';
import { idCovers, nameCovers } from './scope-syntax.js';

const NO_ID = '(none)';

function constraintOf(s: Scope, key: string): Constraint | undefined {
  const cs = s.constraints;
  return cs !== undefined && Object.hasOwn(cs, key) ? cs[key] : undefined;
}

/** Why `child` is not within `parent`, or undefined when it is. */
function coverFailure(parent: Scope, child: Scope): string | undefined {
  if (!nameCovers(parent.action, child.action)) return `action escalated ${parent.action} → ${child.action}`;
  if (!nameCovers(parent.resource, child.resource)) return `resource escalated ${parent.resource} → ${child.resource}`;
  if (!idCovers(parent.id, child.id)) return `id escalated ${parent.id ?? NO_ID} → ${child.id ?? NO_ID}`;
  const pc = parent.constraints;
  if (pc === undefined) return undefined;
  for (const key of Object.keys(pc).sort()) {
    const why = narrowingFailure(key, pc[key]!, constraintOf(child, key));
    if (why !== undefined) return why;
  }
  return undefined;
}

/**
 * True when `child` grants nothing `parent` does not (child ⊆ parent): action, resource
 * and id covered segment-wise (a parent `*` covers anything, a child `*` only a parent
 * `*`), and every parent constraint present in the child at least as narrowly. A
 * constraint the child drops is a widening; extra child constraints only narrow.
 * Expects parsed scopes ({@link parseScope}).
 *
 * @example covers(parseScope('read:invoices:*'), parseScope('read:invoices:inv-1')) // true
 */
export function covers(parent: Scope, child: Scope): boolean {
  return coverFailure(parent, child) === undefined;
}

// How much of the target a parent shares with the child, to explain a denial against
// the most relevant parent rather than the first one.
function closeness(parent: Scope, child: Scope): number {
  const action = nameCovers(parent.action, child.action);
  const resource = nameCovers(parent.resource, child.resource);
  const id = idCovers(parent.id, child.id);
  return (resource ? 4 : 0) + (action ? 2 : 0) + (action && resource && id ? 1 : 0);
}

/**
 * Whether any one of `parents` covers `child`; when none does, a precise reason for the
 * audit log (e.g. `widened max_amount 10000 → 50000`, `dropped constraint max_amount`,
 * `action escalated read → write`) measured against the closest parent.
 *
 * @example explainCovers(parseScopes('read:invoices:*'), parseScope('write:invoices:inv-1'))
 * // { ok: false, code: 'ERR_SCOPE_ESCALATION', reason: 'action escalated read → write' }
 */
export function explainCovers(
  parents: readonly Scope[],
  child: Scope,
): { ok: true; parent: Scope } | { ok: false; code: 'ERR_SCOPE_ESCALATION'; reason: string } {
  let best: Scope | undefined;
  let bestScore = -1;
  for (const parent of parents) {
    if (coverFailure(parent, child) === undefined) return { ok: true, parent };
    const score = closeness(parent, child);
    if (score > bestScore) {
      best = parent;
      bestScore = score;
    }
  }
  const reason = best === undefined ? 'no parent scope' : coverFailure(best, child)!;
  return { ok: false, code: 'ERR_SCOPE_ESCALATION', reason };
}

/**
 * Whether every child is covered by some parent; on failure, the index of the first
 * child that is not and the reason from {@link explainCovers}.
 *
 * @example coversAll(parseScopes('read:invoices:*'), parseScopes('read:invoices:a read:invoices:b')) // { ok: true }
 */
export function coversAll(
  parents: readonly Scope[],
  children: readonly Scope[],
): { ok: true } | { ok: false; index: number; code: 'ERR_SCOPE_ESCALATION'; reason: string } {
  for (let index = 0; index < children.length; index++) {
    const r = explainCovers(parents, children[index]!);
    if (!r.ok) return { ok: false, index, code: r.code, reason: r.reason };
  }
  return { ok: true };
}
