/**
 * Properties of chains (issue 3): for random valid chains whatever the final holder is
 * permitted the root was permitted; a widening at any hop is refused; any single-byte
 * change to any element is refused.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatonError, chainHash, checkRequest, coversAll, decodeHop, parseScopes, sha256B64url, type Scope, type ScopeRequest } from '@baton/core';
import { verifyChain } from './verify-chain.js';
import { NOW, NOW_MS, TestAuthority, agent, buildChain, claimsOf, delegateLink, type Link, type Material } from './testing/chain-fixtures.js';

const authority = new TestAuthority();
const CURRENCIES = ['EUR', 'GBP', 'USD'];

/** Random numbers that drive one narrowing step. */
interface Step {
  readonly keep: readonly boolean[];
  readonly frac: number;
  readonly mask: number;
  readonly idChoice: number;
  readonly suffix: string;
  readonly addMin: boolean;
  readonly shorter: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  keep: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  frac: fc.double({ min: 0, max: 1, noNaN: true }),
  mask: fc.integer({ min: 1, max: 7 }),
  idChoice: fc.integer({ min: 0, max: 2 }),
  suffix: fc.constantFrom('', '2024/', 'a'),
  addMin: fc.boolean(),
  shorter: fc.integer({ min: 0, max: 30 }),
});

function rootScopes(max: number, mask: number): Scope[] {
  return parseScopes([
    { action: 'approve', resource: 'payments', constraints: { max_amount: { max }, currency: { in: CURRENCIES.filter((_c, i) => mask & (1 << i)) } } },
    { action: 'read', resource: 'invoices', id: 'acme/*', constraints: { path: { prefix: 'inv/' } } },
    'pay:vendors',
  ]);
}

/** One scope, narrowed (never widened) by the step's numbers. */
function narrowScope(s: Scope, st: Step): Scope {
  const c = { ...(s.constraints ?? {}) };
  if (s.action === 'approve') {
    if (c.max_amount !== undefined) {
      const lo = c.max_amount.min ?? 0;
      const max = lo + Math.floor(((c.max_amount.max ?? 0) - lo) * st.frac);
      c.max_amount = { ...c.max_amount, max, ...(st.addMin ? { min: lo } : {}) };
    }
    const inSet = (c.currency!.in as string[]).filter((_x, i) => st.mask & (1 << i));
    c.currency = { in: inSet.length > 0 ? inSet : [(c.currency!.in as string[])[0]!] };
    return parseScopes([{ ...s, constraints: c }])[0]!;
  }
  if (s.action === 'read') {
    const id = s.id === 'acme/*' ? ['acme/*', 'acme/x/*', 'acme/x'][st.idChoice]! : s.id;
    return parseScopes([{ ...s, id, constraints: { path: { prefix: `${c.path!.prefix}${st.suffix}` } } }])[0]!;
  }
  return st.addMin ? parseScopes([{ ...s, constraints: { ...c, amount: { max: Math.floor((c.amount?.max ?? 1000) * st.frac) } } }])[0]! : s;
}

function narrow(scopes: readonly Scope[], st: Step): Scope[] {
  const kept = scopes.filter((_s, i) => st.keep[i % 3]);
  return (kept.length > 0 ? kept : [scopes[0]!]).map((s) => narrowScope(s, st));
}

/** A chain whose every hop narrows its parent per `steps`. */
function chainOf(root: Scope[], steps: readonly Step[], widenAt?: { index: number; widen: (s: Scope[]) => Scope[] }): { links: Link[]; scopes: Scope[][] } {
  const holder = agent('manager');
  const links: Link[] = [{ token: authority.rootToken(holder, root), holder }];
  const scopes: Scope[][] = [root];
  let exp = NOW + 300;
  steps.forEach((st, i) => {
    exp -= st.shorter;
    let next = narrow(scopes[i]!, st);
    if (widenAt?.index === i) next = widenAt.widen(scopes[i]!);
    else expect(coversAll(scopes[i]!, next).ok).toBe(true);
    scopes.push(next);
    links.push(delegateLink(authority, links[i]!, agent(`a${i + 1}`), next, { hopExp: exp }));
  });
  return { links, scopes };
}

const request: fc.Arbitrary<ScopeRequest> = fc.oneof(
  fc.record({ action: fc.constant('approve'), resource: fc.constant('payments'), attributes: fc.record({ max_amount: fc.integer({ min: 0, max: 150_000 }), currency: fc.constantFrom('USD', 'EUR', 'GBP', 'JPY') }) }),
  fc.record({ action: fc.constant('read'), resource: fc.constant('invoices'), id: fc.constantFrom('acme/x', 'acme/x/y', 'acme/z', 'globex/1'), attributes: fc.record({ path: fc.constantFrom('inv/2024/1', 'inv/a', 'inv/', 'other') }) }),
  fc.record({ action: fc.constantFrom('pay', 'approve'), resource: fc.constantFrom('vendors', 'payments'), attributes: fc.record({ amount: fc.integer({ min: 0, max: 2000 }) }) }),
);

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    return err instanceof BatonError ? err.code : `not a BatonError: ${String(err)}`;
  }
  return 'accepted';
}

describe('chain properties', () => {
  it('whatever the final holder is permitted, the root was permitted', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100_000 }), fc.integer({ min: 1, max: 7 }), fc.array(step, { minLength: 1, maxLength: 5 }), fc.array(request, { minLength: 1, maxLength: 8 }), (max, mask, steps, requests) => {
        const root = rootScopes(max, mask);
        const { links } = chainOf(root, steps);
        const chain = verifyChain(links[links.length - 1]!.token, { keys: authority.keys, now: NOW_MS });
        expect(chain.depth).toBe(steps.length);
        for (const r of requests) {
          if (checkRequest(chain.scopes, r).ok) expect(checkRequest(root, r).ok).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  const widenings: [string, (s: Scope[]) => Scope[]][] = [
    ['max raised', (s) => s.map((x) => (x.action === 'approve' ? { ...x, constraints: { ...x.constraints, max_amount: { max: (x.constraints!.max_amount!.max ?? 0) + 1 } } } : x))],
    ['in enlarged', (s) => s.map((x) => (x.action === 'approve' ? { ...x, constraints: { ...x.constraints, currency: { in: ['EUR', 'GBP', 'JPY', 'USD'] } } } : x))],
    ['prefix shortened', (s) => s.map((x) => (x.action === 'read' ? { ...x, constraints: { path: { prefix: 'in' } } } : x))],
    ['constraint dropped', (s) => s.map((x) => (x.action === 'approve' ? { action: 'approve', resource: 'payments', constraints: { currency: x.constraints!.currency! } } : x))],
    ['action escalated', (s) => [...s, { action: 'delete', resource: 'payments' }]],
    ['id widened', (s) => s.map((x) => (x.action === 'read' ? { ...x, id: 'acme/*' === x.id ? '*' : 'acme/*' } : x))],
  ];

  it.each(widenings)('a widening (%s) at any hop is refused with ERR_SCOPE_ESCALATION', (_name, widen) => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 5 }), fc.nat(), (steps, at) => {
        // Keep every scope at every hop so the widened one is there to widen.
        const all = steps.map((s) => ({ ...s, keep: [true, true, true] }));
        const root = rootScopes(50_000, 7);
        const index = at % all.length;
        const { links } = chainOf(root, all, { index, widen: (parent) => parseScopes(widen(parent)) });
        expect(codeOf(() => verifyChain(links[links.length - 1]!.token, { keys: authority.keys, now: NOW_MS }))).toBe('ERR_SCOPE_ESCALATION');
      }),
      { numRuns: 25 },
    );
  });

  describe('any single-byte change to any element is refused', () => {
    const chains = [1, 2, 3, 4, 5].map((n) => buildChain(authority, n)[n]!);
    const change = (s: string, pos: number, code: number): string | undefined => {
      const p = pos % s.length;
      if (s.charCodeAt(p) === code) return undefined;
      return `${s.slice(0, p)}${String.fromCharCode(code)}${s.slice(p + 1)}`;
    };
    const input = fc.tuple(fc.integer({ min: 0, max: 4 }), fc.nat(), fc.nat(), fc.integer({ min: 0, max: 255 }));

    it('of the token itself', () => {
      fc.assert(
        fc.property(input, ([d, _el, pos, code]) => {
          const token = change(chains[d]!.token, pos, code);
          if (token === undefined) return;
          expect(codeOf(() => verifyChain(token, { keys: authority.keys, now: NOW_MS }))).toMatch(/^ERR_/);
        }),
        { numRuns: 300 },
      );
    });

    it('of a hop of a by-reference chain', () => {
      fc.assert(
        fc.property(input, ([d, el, pos, code]) => {
          const link = chains[d]!;
          const m = link.material!;
          const token = authority.childToken(m, link.holder, claimsOf(link.token).scopes ?? parseScopes(claimsOf(link.token).scope.split(' ')), { reference: 'REFREFREFREFREFREFREFR' });
          const hops = [...m.hops];
          const i = el % hops.length;
          const changed = change(hops[i]!, pos, code);
          if (changed === undefined) return;
          hops[i] = changed;
          expect(codeOf(() => verifyChain(token, { keys: authority.keys, now: NOW_MS, hops }))).toMatch(/^ERR_/);
        }),
        { numRuns: 300 },
      );
    });

    it('of a hop carried by value, even in a token the authority signed over the changed hop', () => {
      fc.assert(
        fc.property(input, ([d, el, pos, code]) => {
          const link = chains[d]!;
          const m = link.material!;
          const hops = [...m.hops];
          const i = el % hops.length;
          const changed = change(hops[i]!, pos, code);
          if (changed === undefined) return;
          hops[i] = changed;
          const material: Material = { ...m, hops, chainHash: chainHash(m.rootTokenHash, hops.map((h) => sha256B64url(h))) };
          let token: string;
          try {
            token = authority.childToken(material, link.holder, claimsOf(link.token).scopes ?? parseScopes(claimsOf(link.token).scope.split(' ')), { exp: decodeHop(m.hops[m.hops.length - 1]!).claims.exp });
          } catch (err) {
            // The issuer cannot even pack it; were it embedded as is, unpacking refuses it.
            expect((err as BatonError).code).toBe('ERR_CHAIN_INVALID');
            return;
          }
          expect(codeOf(() => verifyChain(token, { keys: authority.keys, now: NOW_MS }))).toMatch(/^ERR_/);
        }),
        { numRuns: 300 },
      );
    });
  });
});
