import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseJsonStrict } from './json.js';
import { checkRequest, covers, explainCovers, parseScope, permits } from './scope.js';
import type { ScopeRequest } from './scope.js';

// Shared, language-neutral vectors for the scope language (also meant for other
// implementations): covers cases { name, parent, child, covers, reason? } and permits
// cases { name, scope, request, permits }.
interface CoversCase {
  name: string;
  parent: unknown;
  child: unknown;
  covers: boolean;
  reason?: string;
}
interface PermitsCase {
  name: string;
  scope: unknown;
  request: ScopeRequest;
  permits: boolean;
}

const text = readFileSync(new URL('../../../test/vectors/scopes.json', import.meta.url), 'utf8');
const vectors = parseJsonStrict(text, { maxBytes: 1024 * 1024 }) as (CoversCase | PermitsCase)[];
const coversCases = vectors.filter((v): v is CoversCase => 'parent' in v);
const permitsCases = vectors.filter((v): v is PermitsCase => 'scope' in v);

describe('scope vectors file', () => {
  it('is well formed and broad', () => {
    expect(coversCases.length + permitsCases.length).toBe(vectors.length);
    expect(coversCases.length).toBeGreaterThanOrEqual(40);
    expect(permitsCases.length).toBeGreaterThanOrEqual(20);
    expect(new Set(vectors.map((v) => v.name)).size).toBe(vectors.length);
    // every constraint operator appears in some parent
    const ops = new Set(coversCases.flatMap((c) => Object.values(parseScope(c.parent).constraints ?? {}).flatMap((k) => Object.keys(k))));
    expect([...ops].sort()).toEqual(['eq', 'in', 'max', 'min', 'prefix']);
    expect(coversCases.some((c) => c.covers) && coversCases.some((c) => !c.covers)).toBe(true);
    expect(permitsCases.some((c) => c.permits) && permitsCases.some((c) => !c.permits)).toBe(true);
  });
});

describe('covers vectors', () => {
  it.each(coversCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const parent = parseScope(c.parent);
    const child = parseScope(c.child);
    expect(covers(parent, child)).toBe(c.covers);
    const explained = explainCovers([parent], child);
    expect(explained.ok).toBe(c.covers);
    if (!explained.ok) {
      expect(explained.code).toBe('ERR_SCOPE_ESCALATION');
      expect(explained.reason.length).toBeGreaterThan(0);
    }
    // every scope covers itself, whatever the vector says about the pair
    expect(covers(child, child) && covers(parent, parent)).toBe(true);
  });
});

describe('permits vectors', () => {
  it.each(permitsCases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const scope = parseScope(c.scope);
    expect(permits(scope, c.request)).toBe(c.permits);
    const decision = checkRequest([scope], c.request);
    expect(decision.ok).toBe(c.permits);
  });
});
