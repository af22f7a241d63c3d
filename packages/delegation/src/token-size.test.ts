/**
 * DESIGN §10: a depth-5 delegated token by value stays within 4 KB. Measured with
 * realistic ids (orchestration, task and 22-character instance ids, a 43-character kid,
 * an RFC 8693 `act` naming every delegator) against the claims the issuer signs, in two
 * chains: the issue's expense example carried on to depth 5, and a harder one where every
 * hop narrows two constrained scopes and shortens the expiry (so little can be left out as
 * "the same as the parent"). A size is an outcome, not a timing.
 */
import { describe, expect, it } from 'vitest';
import { agentSpiffeId, decodeJws, generateKeyPair, parseScopes, randomId, type Scope } from '@baton/core';
import { verifyChain } from './verify-chain.js';
import { NOW, NOW_MS, TestAuthority, delegateLink, type Link, type TestAgent } from './testing/chain-fixtures.js';

const BUDGET = 4096;
const authority = new TestAuthority();
const ROLES = ['manager', 'intern', 'payments-executor', 'clerk', 'auditor', 'notifier'];

function worker(role: string): TestAgent {
  // spiffe://baton.local/agent/expense-orchestrator/approve-invoice-2024-118734-intern/<22 chars>
  return { key: generateKeyPair(), id: agentSpiffeId('baton.local', 'expense-orchestrator', `approve-invoice-2024-118734-${role}`, randomId(16)), task: role };
}

/** Token sizes at depth 0..5 of a chain whose hop d grants `scopesAt(d)` until `expAt(d)`. */
function measure(scopesAt: (d: number) => Scope[], expAt: (d: number) => number | undefined): { sizes: number[]; links: Link[] } {
  const agents = ROLES.map(worker);
  const links: Link[] = [{ token: authority.rootToken(agents[0]!, scopesAt(0)), holder: agents[0]! }];
  for (let d = 1; d <= 5; d++) {
    const exp = expAt(d);
    links.push(delegateLink(authority, links[d - 1]!, agents[d]!, scopesAt(d), exp === undefined ? {} : { hopExp: exp }));
  }
  expect(verifyChain(links[5]!.token, { keys: authority.keys, now: NOW_MS }).depth).toBe(5);
  return { sizes: links.map((l) => Buffer.byteLength(l.token)), links };
}

const expense = measure(
  (d) => parseScopes([{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: d < 2 ? 10000 : 10000 - d * 1000 } } }, 'read:invoices']),
  () => undefined,
);
const harder = measure(
  (d) =>
    parseScopes([
      { action: 'approve', resource: 'payments', constraints: { max_amount: { max: 10000 - d * 1000 }, currency: { in: ['EUR', 'USD'] } } },
      { action: 'read', resource: 'invoices', id: 'acme/*', constraints: { path: { prefix: `inv/${['2024/', 'q2/', 'acme/', 'ap/', 'eu/'].slice(0, d).join('')}` } } },
    ]),
  (d) => NOW + 300 - d * 20,
);

describe('delegated token size', () => {
  it.each([
    ['the expense example carried on to depth 5', expense.sizes],
    ['every hop narrowing two constrained scopes and the expiry', harder.sizes],
  ])(`%s stays within ${BUDGET} bytes by value at depth 5`, (name, sizes) => {
    // Reported for the record (tools/bench reports the same figure); asserted below.
    console.info(`${name}: token bytes by depth ${sizes.map((s, d) => `${d}=${s}`).join(' ')}`);
    expect(sizes[5]).toBeLessThanOrEqual(BUDGET);
    for (let d = 1; d <= 5; d++) expect(sizes[d]).toBeGreaterThan(sizes[d - 1]!);
  });

  it('packs hops into far less than their compact JWS would take inside the token', () => {
    for (const { links } of [expense, harder]) {
      const payload = decodeJws(links[5]!.token).payload as { del: { hops: unknown[] } };
      const packed = Buffer.byteLength(JSON.stringify(payload.del.hops));
      const compact = Buffer.byteLength(JSON.stringify(links[5]!.material!.hops));
      expect(packed).toBeLessThan(compact * 0.5);
    }
  });
});
