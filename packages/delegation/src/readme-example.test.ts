/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 * The setup builds the expense chain (VP's manager → intern → payments executor) with the
 * in-memory authority of the chain fixtures, on the wall clock.
 */
import { describe, expect, it } from 'vitest';
import { isBatonError } from '@baton/core';
import { PRINCIPAL, TestAuthority, agent, delegateLink, type Link } from './testing/chain-fixtures.js';

const authority = new TestAuthority();
const keys = authority.keys; // kid → public key: the authority's token-signing keys
const now = Math.floor(Date.now() / 1000);
const approve = (max: number) => [{ action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max } } }];
const manager = agent('inv-7');
const root: Link = { token: authority.rootToken(manager, approve(10_000), { iat: now, exp: now + 300 }), holder: manager };
const intern = delegateLink(authority, root, agent('inv-7'), approve(10_000), { hopExp: now + 200, iat: now });
const executor = delegateLink(authority, intern, agent('inv-7'), approve(5000), { hopExp: now + 100, iat: now });
const token = executor.token;

// #region readme
import { verifyChain } from '@baton/delegation';

// keys: the authority's token-signing keys by kid (a Map, or any { key(kid) } such as a guard KeySource)
const chain = verifyChain(token, { keys, issuer: 'spiffe://baton.local/authority' });
chain.principal; // 'user:vp@acme.example'
chain.agents; // [manager, intern]: the SPIFFE ids that delegated, root first
chain.holder; // the payments executor
chain.scopes; // [{ action: 'approve', resource: 'payments', constraints: { amount: { max: 5000, min: 0 } } }]
chain.depth; // 2
// #endregion

describe('README example: verifyChain offline', () => {
  it('traces the executor token back to the principal through every hop', () => {
    expect(chain.principal).toBe(PRINCIPAL);
    expect(chain.agents).toEqual([manager.id, intern.holder.id]);
    expect(chain.holder).toBe(executor.holder.id);
    expect(chain.scopes).toEqual([{ action: 'approve', resource: 'payments', constraints: { amount: { max: 5000, min: 0 } } }]);
    expect(chain.depth).toBe(2);
    expect(chain.chainHash).toBe(executor.material!.chainHash);
  });

  it('refuses a chain where a hop widens, naming the hop for the audit log', () => {
    // Signed by the authority all the same: the chain itself must never widen.
    const forged = delegateLink(authority, intern, agent('inv-7'), approve(50_000), { hopExp: now + 100, iat: now });
    let code = '';
    let detail = '';
    try {
      verifyChain(forged.token, { keys, issuer: 'spiffe://baton.local/authority' });
    } catch (err) {
      if (!isBatonError(err)) throw err;
      ({ code, detail } = err);
    }
    expect(code).toBe('ERR_SCOPE_ESCALATION');
    expect(detail).toContain('hop 2');
    expect(detail).toContain('10000 → 50000');
  });
});
