import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatonError } from './errors.js';
import { checkRequest, covers, coversAll, explainCovers, formatScope, parseScope, parseScopes, permits } from './scope.js';
import type { Constraint, ConstraintValue, Scope, ScopeRequest } from './scope.js';

// Small alphabets on purpose: random pairs then often cover each other and random
// requests often match, so the implications below are exercised, not vacuously true.
const action = fc.constantFrom('read', 'write', '*');
const resource = fc.constantFrom('inv', 'pay', '*');
const idPattern = fc.option(
  fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 3 }).map((s) => s.join('/')),
  { nil: undefined },
);

const opt = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(arb, { nil: undefined, freq: 2 });
const setOf = <T extends ConstraintValue>(values: T[]): fc.Arbitrary<T[]> =>
  fc.uniqueArray(fc.constantFrom(...values), { minLength: 1, maxLength: values.length });

function constraintFrom(parts: Partial<Record<keyof Constraint, unknown>>): Constraint | null {
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parts)) if (v !== undefined) c[k] = v;
  return Object.keys(c).length === 0 ? null : (c as Constraint);
}

const int = fc.integer({ min: -3, max: 12 });
const numeric = fc
  .record({ eq: opt(int), in: opt(setOf([-2, 0, 1, 5, 8, 11])), max: opt(int), min: opt(int) })
  .map(({ eq, in: set, max, min }) => {
    const [lo, hi] = max !== undefined && min !== undefined && max < min ? [max, min] : [min, max];
    return constraintFrom({ eq, in: set, max: hi, min: lo });
  });
const currency = fc
  .record({ eq: opt(fc.constantFrom('EUR', 'USD', 'GBP')), in: opt(setOf(['EUR', 'USD', 'GBP'])), prefix: opt(fc.constantFrom('', 'E', 'EU', 'U')) })
  .map(constraintFrom);
const path = fc
  .record({ eq: opt(fc.constantFrom('a', 'a/b', 'a/bc', 'b')), in: opt(setOf(['a', 'a/b', 'a/bc', 'b'])), prefix: opt(fc.constantFrom('', 'a', 'a/', 'a/b')) })
  .map(constraintFrom);
const flag = fc.record({ eq: opt(fc.boolean()), in: opt(setOf([true, false])) }).map(constraintFrom);

const constraints = fc
  .record({ amount: opt(numeric), cur: opt(currency), path: opt(path), flag: opt(flag) })
  .map((r) => {
    const out: Record<string, Constraint> = {};
    for (const [k, v] of Object.entries(r)) if (v) out[k] = v;
    return Object.keys(out).length === 0 ? undefined : out;
  });

/** Valid scopes, normalised by parseScope (which must accept every one). */
const scopeArb: fc.Arbitrary<Scope> = fc
  .record({ action, resource, id: idPattern, constraints: fc.option(constraints, { nil: undefined, freq: 3 }) })
  .map((raw) => {
    const input: Record<string, unknown> = { action: raw.action, resource: raw.resource };
    if (raw.id !== undefined) input['id'] = raw.id;
    if (raw.constraints !== undefined) input['constraints'] = raw.constraints;
    return parseScope(input);
  });

const attrValue = {
  amount: fc.oneof(int, fc.constant('5'), fc.constant(Number.NaN), fc.constant(Number.POSITIVE_INFINITY)),
  cur: fc.constantFrom('EUR', 'USD', 'GBP', 'XTS', 'E'),
  path: fc.constantFrom('a', 'a/b', 'a/bc', 'b', 'a/b/c'),
  flag: fc.oneof(fc.boolean(), fc.constant('true')),
};

const requestArb: fc.Arbitrary<ScopeRequest> = fc
  .record({
    action: fc.constantFrom('read', 'write'),
    resource: fc.constantFrom('inv', 'pay'),
    id: fc.option(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 4 }).map((s) => s.join('/')), { nil: undefined }),
    attributes: fc.record(attrValue, { requiredKeys: [] }),
  })
  .map((r) => {
    const req: ScopeRequest = { action: r.action, resource: r.resource, attributes: r.attributes as Record<string, ConstraintValue> };
    if (r.id !== undefined) req.id = r.id;
    return req;
  });

// A deterministic "make it narrower (usually)" step driven by random integers, so that
// chains of scopes that cover each other are common; shrinking still works on the ints.
type Rnd = (n: number) => number;
const rndFrom = (ints: number[]): Rnd => {
  let i = 0;
  return (n) => ints[i++ % ints.length]! % n;
};
const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[rnd(xs.length)]!;

function narrowId(id: string | undefined, rnd: Rnd): string | undefined {
  if (rnd(10) === 0) return pick(rnd, [undefined, '*', 'a', 'a/*', 'b/a']);
  if (id === undefined) return undefined;
  if (id === '*' && rnd(3) === 0) return undefined;
  const segs = id.split('/').map((seg) => (seg === '*' ? pick(rnd, ['*', 'a', 'b']) : seg));
  if (id.endsWith('*') && rnd(2) === 0) segs.push(pick(rnd, ['a', '*']));
  return segs.slice(0, 3).join('/');
}

function narrowConstraint(c: Constraint, rnd: Rnd): Constraint | undefined {
  const out: Constraint = { ...c };
  switch (rnd(6)) {
    case 0:
      return rnd(4) === 0 ? undefined : out; // occasionally dropped: a widening
    case 1:
      if (out.max !== undefined) out.max -= rnd(4) - 1; // sometimes widened by one
      if (out.min !== undefined) out.min += rnd(3);
      break;
    case 2:
      if (out.in !== undefined && out.in.length > 1) out.in = out.in.slice(rnd(out.in.length));
      break;
    case 3: {
      const values = out.in ?? (out.eq !== undefined ? [out.eq] : []);
      if (values.length > 0) out.eq = pick(rnd, values);
      break;
    }
    case 4:
      if (out.prefix !== undefined) out.prefix += pick(rnd, ['', 'U', '/', 'b']);
      break;
    default:
      break;
  }
  return out;
}

function narrow(s: Scope, ints: number[]): Scope {
  const rnd = rndFrom(ints);
  const input: Record<string, unknown> = {
    action: s.action === '*' || rnd(10) === 0 ? pick(rnd, ['read', 'write', '*']) : s.action,
    resource: s.resource === '*' || rnd(10) === 0 ? pick(rnd, ['inv', 'pay', '*']) : s.resource,
  };
  const id = narrowId(s.id, rnd);
  if (id !== undefined) input['id'] = id;
  const cs: Record<string, Constraint> = {};
  for (const [k, c] of Object.entries(s.constraints ?? {})) {
    const n = narrowConstraint(c, rnd);
    if (n !== undefined) cs[k] = n;
  }
  if (rnd(3) === 0) cs[pick(rnd, ['amount', 'flag'])] = pick(rnd, [{ max: 4 }, { eq: true }, { in: [1, 2] }]);
  input['constraints'] = cs;
  try {
    return parseScope(input);
  } catch {
    return s; // the step produced something invalid (e.g. min above max): no change
  }
}

const ints = fc.array(fc.nat(), { minLength: 16, maxLength: 16 });
const pairArb = fc.tuple(scopeArb, ints).map(([p, r]) => [p, narrow(p, r)] as const);
const tripleArb = fc.tuple(scopeArb, ints, ints).map(([a, r1, r2]) => {
  const b = narrow(a, r1);
  return [a, b, narrow(b, r2)] as const;
});

// A request shaped after a scope (so it often matches it): wildcards instantiated, and
// attribute values taken from the constraints or near their bounds.
function requestFor(s: Scope, ints: number[]): ScopeRequest {
  const rnd = rndFrom(ints);
  const concrete = (x: string, options: string[]): string => (x === '*' ? pick(rnd, options) : x);
  const req: ScopeRequest = { action: concrete(s.action, ['read', 'write']), resource: concrete(s.resource, ['inv', 'pay']) };
  if (s.id !== undefined && !(s.id === '*' && rnd(3) === 0)) {
    const segs = s.id.split('/').map((seg) => concrete(seg, ['a', 'b', 'c']));
    if (s.id.endsWith('*') && rnd(2) === 0) segs.push(pick(rnd, ['a', 'c']));
    req.id = segs.join('/');
  }
  const attributes: Record<string, ConstraintValue> = {};
  for (const [k, c] of Object.entries(s.constraints ?? {})) {
    if (rnd(12) === 0) continue;
    const candidates: ConstraintValue[] = [...(c.in ?? []), ...(c.eq !== undefined ? [c.eq] : [])];
    if (c.max !== undefined) candidates.push(c.max, c.max + 1);
    if (c.min !== undefined) candidates.push(c.min, c.min - 1);
    if (c.prefix !== undefined) candidates.push(c.prefix, `${c.prefix}b`);
    attributes[k] = candidates.length > 0 ? pick(rnd, candidates) : 0;
  }
  req.attributes = attributes;
  return req;
}

const RUNS = { numRuns: 10_000 };

describe('covers: a partial order', { timeout: 60_000 }, () => {
  it('is reflexive', () => {
    fc.assert(
      fc.property(scopeArb, (s) => {
        expect(covers(s, s)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('is transitive', () => {
    let hits = 0;
    fc.assert(
      fc.property(fc.oneof(tripleArb, fc.tuple(scopeArb, scopeArb, scopeArb)), ([a, b, c]) => {
        if (covers(a, b) && covers(b, c)) {
          hits++;
          expect(covers(a, c)).toBe(true);
        }
      }),
      RUNS,
    );
    expect(hits).toBeGreaterThan(RUNS.numRuns / 20);
  });

  it('agrees with explainCovers and coversAll', () => {
    fc.assert(
      fc.property(fc.array(scopeArb, { maxLength: 3 }), scopeArb, (parents, child) => {
        const expected = parents.some((p) => covers(p, child));
        const r = explainCovers(parents, child);
        expect(r.ok).toBe(expected);
        if (r.ok) expect(covers(r.parent, child)).toBe(true);
        else expect(r.code).toBe('ERR_SCOPE_ESCALATION');
        expect(coversAll(parents, [child]).ok).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('attenuation is sound', { timeout: 60_000 }, () => {
  it('whatever a covered child permits, its parent permits', () => {
    let hits = 0;
    fc.assert(
      fc.property(fc.oneof(pairArb, fc.tuple(scopeArb, scopeArb)), ints, requestArb, ([parent, child], r, random) => {
        const request = r[0]! % 4 === 0 ? random : requestFor(child, r);
        if (covers(parent, child) && permits(child, request)) {
          hits++;
          expect(permits(parent, request)).toBe(true);
        }
      }),
      RUNS,
    );
    expect(hits).toBeGreaterThan(RUNS.numRuns / 20);
  });

  it('checkRequest allows exactly when some scope permits', () => {
    fc.assert(
      fc.property(fc.array(scopeArb, { maxLength: 4 }), requestArb, (scopes, request) => {
        const r = checkRequest(scopes, request);
        expect(r.ok).toBe(scopes.some((s) => permits(s, request)));
        if (r.ok) expect(permits(r.scope, request)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('string form', { timeout: 60_000 }, () => {
  const seg = fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
  const name = fc.oneof(seg, fc.constant('*'));
  const id = fc.array(name, { minLength: 1, maxLength: 5 }).map((s) => s.join('/'));
  const text = fc.tuple(name, name, fc.option(id, { nil: undefined })).map(([a, r, i]) => (i === undefined ? `${a}:${r}` : `${a}:${r}:${i}`));

  it('round-trips through parse and format', () => {
    fc.assert(
      fc.property(text, (t) => {
        const s = parseScope(t);
        expect(formatScope(s)).toBe(t);
        expect(parseScope(formatScope(s))).toStrictEqual(s);
      }),
      { numRuns: 5000 },
    );
  });

  it('round-trips structured scopes through their string form when unconstrained', () => {
    fc.assert(
      fc.property(scopeArb, (s) => {
        const { constraints: _dropped, ...bare } = s;
        expect(parseScope(formatScope(s))).toStrictEqual(bare);
      }),
    );
  });
});

describe('parsers on arbitrary input', { timeout: 60_000 }, () => {
  const expectOnlyScopeInvalid = (fn: () => unknown): void => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(BatonError);
      expect((err as BatonError).code).toBe('ERR_SCOPE_INVALID');
    }
  };
  const weirdValue = fc.oneof(
    fc.anything(),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, 1e300, -(2 ** 60), '__proto__', [], {}),
  );
  const nearScope = fc.record(
    {
      action: fc.oneof(action, fc.string()),
      resource: fc.oneof(resource, fc.string()),
      id: fc.oneof(idPattern, fc.string()),
      constraints: fc.dictionary(
        fc.oneof(fc.constantFrom('amount', 'constructor', '__proto__', 'Amount'), fc.string()),
        fc.oneof(fc.dictionary(fc.constantFrom('eq', 'in', 'max', 'min', 'prefix', 'lt'), weirdValue), weirdValue),
      ),
    },
    { requiredKeys: [] },
  );

  it('parseScope and parseScopes throw nothing but ERR_SCOPE_INVALID', () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), fc.string({ unit: 'binary' }), nearScope), (input) => {
        expectOnlyScopeInvalid(() => parseScope(input));
        expectOnlyScopeInvalid(() => parseScopes(input));
        expectOnlyScopeInvalid(() => parseScopes([input]));
      }),
      { numRuns: 3000 },
    );
  });

  it('whatever parseScope accepts is a fixed point of parsing', () => {
    fc.assert(
      fc.property(nearScope, (input) => {
        let s: Scope;
        try {
          s = parseScope(input);
        } catch {
          return;
        }
        expect(parseScope(s)).toStrictEqual(s);
        expect(covers(s, s)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});
