import { describe, expect, it } from 'vitest';
import { covers, coversAll, explainCovers, parseScope, parseScopes, permits } from './scope.js';
import type { Scope } from './scope.js';

const pay = (constraints: Scope['constraints'], id?: string): Scope =>
  parseScope({ action: 'pay', resource: 'invoices', ...(id === undefined ? {} : { id }), constraints });

describe('explainCovers', () => {
  it('accepts when any single parent covers, and names that parent', () => {
    const parents = parseScopes('read:invoices:a read:invoices:*');
    const r = explainCovers(parents, parseScope('read:invoices:b'));
    expect(r).toEqual({ ok: true, parent: parents[1] });
  });

  it('judges each parent alone: no parent covers a child that needs two of them', () => {
    expect(explainCovers(parseScopes('read:invoices:a read:invoices:b'), parseScope('read:invoices:*')).ok).toBe(false);
    const parents = [pay({ amount: { max: 100 } }, 'a'), pay({ amount: { max: 1000 } }, 'b')];
    expect(explainCovers(parents, pay({ amount: { max: 500 } }, 'a')).ok).toBe(false);
    expect(explainCovers(parents, pay({ amount: { max: 500 } }, 'b')).ok).toBe(true);
  });

  it.each([
    ['action', 'read:invoices', 'write:invoices', ['action', 'read', 'write']],
    ['resource', 'read:invoices', 'read:payments', ['resource', 'invoices', 'payments']],
    ['id', 'read:invoices:a/*', 'read:invoices:b/1', ['id', 'a/*', 'b/1']],
    ['missing id', 'read:invoices:a', 'read:invoices', ['id', 'a', '(none)']],
  ])('reports %s escalation with both sides', (_name, parent, child, parts) => {
    const r = explainCovers([parseScope(parent)], parseScope(child));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('ERR_SCOPE_ESCALATION');
      for (const p of parts) expect(r.reason).toContain(p);
    }
  });

  it.each([
    ['dropped constraint', { max_amount: { max: 10000 } }, undefined, ['dropped', 'max_amount']],
    ['widened max', { max_amount: { max: 10000 } }, { max_amount: { max: 50000 } }, ['widened', 'max_amount', '10000', '50000']],
    ['lowered min', { amount: { min: 10 } }, { amount: { min: 0 } }, ['amount', '10', '0']],
    ['enlarged in set', { currency: { in: ['EUR', 'USD'] } }, { currency: { in: ['EUR', 'GBP', 'USD'] } }, ['in set enlarged', 'currency', 'GBP']],
    ['shortened prefix', { path: { prefix: 'inv/2024/' } }, { path: { prefix: 'inv/' } }, ['prefix shortened', 'path', 'inv/2024/', 'inv/']],
    ['changed eq', { currency: { eq: 'EUR' } }, { currency: { eq: 'USD' } }, ['currency', 'EUR', 'USD']],
    ['eq above max', { amount: { max: 100 } }, { amount: { eq: 101 } }, ['amount', '101', '100']],
  ])('reports %s precisely', (_name, parentConstraints, childConstraints, parts) => {
    const r = explainCovers([pay(parentConstraints)], pay(childConstraints));
    expect(r.ok).toBe(false);
    if (!r.ok) for (const p of parts) expect(r.reason).toContain(p);
  });

  it('explains against the closest parent, not the first', () => {
    const parents = [parseScope('read:payments'), pay({ amount: { max: 100 } }), parseScope('read:invoices')];
    const r = explainCovers(parents, pay({ amount: { max: 500 } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('amount');
  });

  it('prefers a parent on the same resource over one with the same action', () => {
    const r = explainCovers(parseScopes('pay:payments read:invoices'), parseScope('pay:invoices'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain('action');
  });

  it('fails with no parents at all', () => {
    const r = explainCovers([], parseScope('read:x'));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('ERR_SCOPE_ESCALATION');
  });

  it('escapes attacker-chosen strings in reasons', () => {
    const r = explainCovers([pay({ note: { eq: 'a' } })], pay({ note: { eq: 'b\n[audit] forged entry' } }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).not.toContain('\n');
  });
});

describe('coversAll', () => {
  const parents = parseScopes('read:invoices:* write:invoices:inv-1');
  it('accepts when every child is covered (including no children)', () => {
    expect(coversAll(parents, parseScopes('read:invoices:inv-9 write:invoices:inv-1'))).toEqual({ ok: true });
    expect(coversAll(parents, [])).toEqual({ ok: true });
  });

  it('reports the index of the first uncovered child', () => {
    const r = coversAll(parents, parseScopes('read:invoices:x write:invoices:inv-1 write:invoices:inv-2 delete:invoices'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.index).toBe(2);
      expect(r.code).toBe('ERR_SCOPE_ESCALATION');
    }
  });
});

// Reference semantics of id patterns, written independently of scope-syntax.ts, over a
// universe large enough to tell every pattern of up to 3 segments apart.
function matchesId(pattern: string | undefined, id: string | undefined): boolean {
  if (pattern === '*') return true;
  if (pattern === undefined || id === undefined) return pattern === id;
  const p = pattern.split('/');
  const x = id.split('/');
  const last = p.length - 1;
  if (p[last] === '*') {
    if (x.length < p.length) return false;
    return p.slice(0, last).every((seg, i) => seg === '*' || seg === x[i]);
  }
  return x.length === p.length && p.every((seg, i) => seg === '*' || seg === x[i]);
}

function allPaths(alphabet: string[], maxLen: number): string[] {
  let level = [''];
  const out: string[] = [];
  for (let len = 1; len <= maxLen; len++) {
    level = level.flatMap((prefix) => alphabet.map((a) => (prefix === '' ? a : `${prefix}/${a}`)));
    out.push(...level);
  }
  return out;
}

describe('id patterns: covers is exactly set inclusion', () => {
  const patterns: (string | undefined)[] = [undefined, ...allPaths(['a', 'b', '*'], 3)];
  const universe: (string | undefined)[] = [undefined, ...allPaths(['a', 'b', 'c'], 4)];
  const denote = (p: string | undefined): boolean[] => universe.map((x) => matchesId(p, x));
  const scope = (id: string | undefined): Scope => parseScope(id === undefined ? 'read:docs' : `read:docs:${id}`);

  it('permits follows the reference matcher for every concrete id', () => {
    for (const p of patterns) {
      const s = scope(p);
      for (const x of universe) {
        const req = x === undefined ? { action: 'read', resource: 'docs' } : { action: 'read', resource: 'docs', id: x };
        expect([p, x, permits(s, req)]).toEqual([p, x, matchesId(p, x)]);
      }
    }
  });

  it('covers(p, c) holds exactly when every id c matches is matched by p', () => {
    const sets = new Map(patterns.map((p) => [p, denote(p)]));
    for (const p of patterns) {
      for (const c of patterns) {
        const inclusion = sets.get(c)!.every((m, i) => !m || sets.get(p)![i]);
        expect([p, c, covers(scope(p), scope(c))]).toEqual([p, c, inclusion]);
      }
    }
  });
});
