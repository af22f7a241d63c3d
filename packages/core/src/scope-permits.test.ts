import { describe, expect, it } from 'vitest';
import { checkRequest, parseScope, parseScopes, permits } from './scope.js';
import type { Scope, ScopeRequest } from './scope.js';

const payScope = parseScope({ action: 'pay', resource: 'invoices', id: '*', constraints: { amount: { min: 0, max: 5000 }, currency: { in: ['EUR', 'USD'] } } });
const payReq = (attributes: Record<string, unknown> | undefined, id = 'inv-1'): ScopeRequest =>
  ({ action: 'pay', resource: 'invoices', id, ...(attributes === undefined ? {} : { attributes }) }) as ScopeRequest;

describe('permits: attributes', () => {
  it.each([
    ['within every constraint', { amount: 5000, currency: 'EUR' }, true],
    ['at the lower bound', { amount: 0, currency: 'USD' }, true],
    ['fractional amount', { amount: 0.01, currency: 'USD' }, true],
    ['above max', { amount: 5000.01, currency: 'EUR' }, false],
    ['below min (negative)', { amount: -1, currency: 'EUR' }, false],
    ['-0 counts as 0', { amount: -0, currency: 'EUR' }, true],
    ['currency outside the set', { amount: 1, currency: 'GBP' }, false],
    ['missing amount', { currency: 'EUR' }, false],
    ['no attributes', undefined, false],
    ['amount as a string', { amount: '100', currency: 'EUR' }, false],
    ['amount as a boolean', { amount: true, currency: 'EUR' }, false],
    ['NaN amount', { amount: Number.NaN, currency: 'EUR' }, false],
    ['Infinity amount', { amount: Number.POSITIVE_INFINITY, currency: 'EUR' }, false],
    ['-Infinity amount', { amount: Number.NEGATIVE_INFINITY, currency: 'EUR' }, false],
    ['huge amount', { amount: 1e300, currency: 'EUR' }, false],
    ['object amount', { amount: { valueOf: () => 1 }, currency: 'EUR' }, false],
    ['array currency', { amount: 1, currency: ['EUR'] }, false],
    ['null amount', { amount: null, currency: 'EUR' }, false],
    ['extra attributes are ignored', { amount: 1, currency: 'EUR', note: 'x' }, true],
  ])('%s → %s', (_name, attributes, expected) => {
    expect(permits(payScope, payReq(attributes))).toBe(expected);
  });

  it('reads only own attributes, never inherited ones', () => {
    const inherited = Object.create({ amount: 1, currency: 'EUR' }) as Record<string, unknown>;
    expect(permits(payScope, payReq(inherited))).toBe(false);
    const s = parseScope({ action: 'a', resource: 'r', constraints: { tostring: { eq: 'x' } } });
    expect(permits(s, { action: 'a', resource: 'r', attributes: {} })).toBe(false);
  });

  it('a huge min/max still compares as numbers', () => {
    const s = parseScope({ action: 'a', resource: 'r', constraints: { n: { min: -Number.MAX_SAFE_INTEGER } } });
    expect(permits(s, { action: 'a', resource: 'r', attributes: { n: -1e300 } })).toBe(false);
    expect(permits(s, { action: 'a', resource: 'r', attributes: { n: 1e300 } })).toBe(true);
  });

  it('fails closed on a hand-built scope with malformed operators', () => {
    const bad = { action: 'a', resource: 'r', constraints: { n: { max: '10' } } } as unknown as Scope;
    expect(permits(bad, { action: 'a', resource: 'r', attributes: { n: 5 } })).toBe(false);
    const badPrefix = { action: 'a', resource: 'r', constraints: { p: { prefix: 5 } } } as unknown as Scope;
    expect(permits(badPrefix, { action: 'a', resource: 'r', attributes: { p: '5' } })).toBe(false);
  });
});

describe('permits: malformed requests are denied, never thrown', () => {
  const any = parseScope('*:*:*');
  it.each([
    ['dot-dot id', { action: 'read', resource: 'docs', id: 'a/../b' }],
    ['dot id', { action: 'read', resource: 'docs', id: '.' }],
    ['empty id', { action: 'read', resource: 'docs', id: '' }],
    ['trailing slash id', { action: 'read', resource: 'docs', id: 'a/' }],
    ['percent in id', { action: 'read', resource: 'docs', id: '%2e%2e' }],
    ['id too long', { action: 'read', resource: 'docs', id: 'i'.repeat(513) }],
    ['non-string id', { action: 'read', resource: 'docs', id: 7 }],
    ['empty action', { action: '', resource: 'docs' }],
    ['colon in resource', { action: 'read', resource: 'docs:x' }],
    ['non-string action', { action: null, resource: 'docs' }],
    ['attributes null', { action: 'read', resource: 'docs', attributes: null }],
    ['attributes a string', { action: 'read', resource: 'docs', attributes: 'amount=1' }],
    ['request null', null],
  ])('%s', (_name, request) => {
    expect(permits(any, request as unknown as ScopeRequest)).toBe(false);
    const r = checkRequest([any], request as unknown as ScopeRequest);
    expect(r.ok ? 'ok' : r.code).toBe('ERR_SCOPE_DENIED');
  });
});

describe('checkRequest', () => {
  const scopes = [parseScope('read:invoices:*'), payScope, parseScope({ action: 'pay', resource: 'invoices', id: 'big/*', constraints: { amount: { max: 100000 } } })];

  it('returns the first scope that permits', () => {
    expect(checkRequest(scopes, { action: 'read', resource: 'invoices', id: 'x' })).toEqual({ ok: true, scope: scopes[0] });
    expect(checkRequest(scopes, payReq({ amount: 9000 }, 'big/inv-3'))).toEqual({ ok: true, scope: scopes[2] });
  });

  it('reports ERR_CONSTRAINT_VIOLATED with the failing attribute when a scope targets the request', () => {
    const r = checkRequest(scopes, payReq({ amount: 6000, currency: 'EUR' }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toBe('ERR_CONSTRAINT_VIOLATED');
      expect(r.reason).toContain('amount');
      expect(r.reason).toContain('6000');
      expect(r.reason).toContain('5000');
    }
  });

  it('reports ERR_CONSTRAINT_VIOLATED for a missing attribute', () => {
    const r = checkRequest(scopes, payReq({ amount: 1 }));
    expect(r.ok ? 'ok' : r.code).toBe('ERR_CONSTRAINT_VIOLATED');
  });

  it.each([
    ['unknown action', { action: 'delete', resource: 'invoices', id: 'x' }],
    ['unknown resource', { action: 'read', resource: 'payments', id: 'x' }],
    ['id outside every pattern', { action: 'pay', resource: 'payments', id: 'big' }],
  ])('reports ERR_SCOPE_DENIED for %s', (_name, request) => {
    const r = checkRequest(scopes, request);
    expect(r.ok ? 'ok' : r.code).toBe('ERR_SCOPE_DENIED');
  });

  it('denies everything with no scopes', () => {
    const r = checkRequest([], { action: 'read', resource: 'invoices' });
    expect(r.ok ? 'ok' : r.code).toBe('ERR_SCOPE_DENIED');
  });

  it('keeps attacker-chosen values out of the reason verbatim', () => {
    const s = parseScopes([{ action: 'a', resource: 'r', constraints: { note: { eq: 'ok' } } }]);
    const r = checkRequest(s, { action: 'a', resource: 'r', attributes: { note: `x\n${'y'.repeat(10_000)}` } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.reason).not.toContain('\n');
      expect(r.reason.length).toBeLessThan(300);
    }
  });
});
