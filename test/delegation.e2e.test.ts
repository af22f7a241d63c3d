/**
 * Issue 3 "Done when": the problem's own example, end to end over gRPC with the real
 * issuer, identity and delegation services, the agent SDK on every agent, and a guarded
 * payments resource that verifies every hop offline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64urlEncode, decodeJws, generateKeyPair, signJws } from '@baton/core';
import { staticKeys } from '@baton/guard';
import type { Agent, DelegatedToken } from '@baton/agent';
import { approve, codeOf, PRINCIPAL, startHarness, type Harness } from './src/delegation-harness.js';
import { verifyChain } from '../packages/delegation/dist/index.js';

let h: Harness;
let manager: Agent;
let intern: Agent;
let executor: Agent;
let internAuthority: DelegatedToken;
let executorAuthority: DelegatedToken;

beforeAll(async () => {
  h = await startHarness();
  // 1. user:vp authorizes workflow expense-approval: approve:payments with max_amount ≤ 10000
  //    (the workflow ceiling). Only the manager's task is launched with that authority;
  //    the intern and the executor run their own tasks with read access only.
  manager = await h.agent('approve-expense-7781', { scopes: [approve(10000)], name: 'manager' });
  intern = await h.agent('review-expense-7781', { scopes: ['read:invoices'], name: 'intern' });
  executor = await h.agent('pay-expense-7781', { scopes: ['read:invoices'], name: 'payments-executor' });
}, 30_000);

afterAll(async () => {
  await h?.close();
});

describe('the expense-approval example (issue 3, "Done when")', () => {
  it('2. the manager delegates max_amount ≤ 10000 to the intern', async () => {
    const grant = await manager.delegate(intern.delegationTarget, [approve(10000)]);
    expect(grant.depth).toBe(1);
    internAuthority = intern.adoptDelegatedToken(grant.token);
    expect(internAuthority.principal).toBe(PRINCIPAL);
    expect(internAuthority.scopes).toEqual([approve(10000)]);
  });

  it('3. the intern delegates max_amount ≤ 5000 to the payments-executor', async () => {
    const grant = await internAuthority.delegate(executor.delegationTarget, [approve(5000)], { ttl: 120 });
    expect(grant.depth).toBe(2);
    executorAuthority = executor.adoptDelegatedToken(grant.token);
    expect(executorAuthority.depth).toBe(2);
    // The child token is bound to the executor's key: nobody else can adopt it.
    expect(() => intern.adoptDelegatedToken(grant.token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIMS_INVALID' }));
    // Offline, with no server: the chain goes back to the principal through both agents.
    const chain = verifyChain(grant.token, { keys: staticKeys(h.issuer.keyRing.jwks()), now: h.clock.now() });
    expect(chain.principal).toBe(PRINCIPAL);
    expect(chain.agents).toEqual([manager.spiffeId, intern.spiffeId]);
    expect(chain.scopes).toEqual([approve(5000)]);
  });

  it('4. the executor approving $4,000 is allowed by the payments server, which verified every hop', async () => {
    const payments = executorAuthority.client(h.payments.service, h.payments.address);
    const res = await payments.approve({ invoice: 'inv-7', amount: 4000 });
    expect(res).toMatchObject({ approvedBy: executor.spiffeId, principal: PRINCIPAL, depth: 2 });
    const d = h.payments.decisions.at(-1)!;
    expect(d.allow && d.agents).toEqual([manager.spiffeId, intern.spiffeId]);
  });

  it("5. the intern's attempt to delegate ≤ 50000 is refused by the service", async () => {
    const before = h.audit.filter((r) => r.type === 'delegation.denied').length;
    expect(await codeOf(internAuthority.delegate(executor.delegationTarget, [approve(50000)]))).toBe('ERR_SCOPE_ESCALATION');
    const denied = h.audit.filter((r) => r.type === 'delegation.denied');
    expect(denied.length).toBe(before + 1);
    expect(denied.at(-1)).toMatchObject({ outcome: 'deny', reasonCode: 'ERR_SCOPE_ESCALATION', agent: intern.spiffeId, delegationDepth: 1 });
    // The why-denied, for the audit log only (callers get the generic problem).
    expect(denied.at(-1)!.reasonDetail).toBe('hop 2 widened max_amount 10000 → 50000');
  });

  it('6. a hand-built token claiming ≤ 50000, presented straight to the payments server, is refused by the guard', async () => {
    const real = executorAuthority.token();
    const { header, payload } = decodeJws(real);
    const wider = { ...payload, scope: 'approve:payments', scopes: [approve(50000)] };
    const attacker = generateKeyPair();
    const forgeries: [string, string][] = [
      // Signed with the attacker's key under the authority's kid.
      [signJws({ typ: header.typ, kid: header.kid }, wider, attacker.privateKey), 'ERR_TOKEN_SIGNATURE_INVALID'],
      // The real signature over a widened payload.
      [`${real.split('.')[0]}.${b64urlEncode(JSON.stringify(wider))}.${real.split('.')[2]}`, 'ERR_TOKEN_SIGNATURE_INVALID'],
      // Signed under a kid of the attacker's own.
      [signJws({ typ: header.typ, kid: attacker.thumbprint }, wider, attacker.privateKey), 'ERR_TOKEN_KID_UNKNOWN'],
    ];
    for (const [token, code] of forgeries) expect(await codeOf(h.paymentsAs(attacker, token).approve(40000))).toBe(code);
    // The real token does not stretch to it either.
    expect(await codeOf(executorAuthority.client(h.payments.service, h.payments.address).approve({ invoice: 'inv-8', amount: 40000 }))).toBe('ERR_CONSTRAINT_VIOLATED');
  });

  it('7. the executor asking for $6,000 is refused (constraint)', async () => {
    const payments = executorAuthority.client(h.payments.service, h.payments.address);
    expect(await codeOf(payments.approve({ invoice: 'inv-9', amount: 6000 }))).toBe('ERR_CONSTRAINT_VIOLATED');
    const d = h.payments.decisions.at(-1)!;
    expect(d.allow).toBe(false);
    expect(!d.allow && d.code).toBe('ERR_CONSTRAINT_VIOLATED');
  });

  it('records every grant for audit, with depth, chain hash and the agents in between', () => {
    const granted = h.audit.filter((r) => r.type === 'delegation.granted');
    expect(granted.map((r) => [r.agent, r.delegationDepth, r.intermediateAgents])).toEqual([
      [intern.spiffeId, 1, [manager.spiffeId]],
      [executor.spiffeId, 2, [manager.spiffeId, intern.spiffeId]],
    ]);
    expect(granted.every((r) => typeof r.chainHash === 'string' && r.principal === PRINCIPAL)).toBe(true);
  });
});
