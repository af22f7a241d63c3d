/**
 * The chain of authority: the manager delegates to the intern, the intern (perhaps after
 * bringing in a checker) to the payments-executor, who approves $4,000; then the ways
 * that chain cannot be bent: an escalating delegation, a forged token, a larger amount.
 */
import { ask, usd } from './agent-calls.js';
import type { CallReply } from './agent-calls.js';
import type { DemoWorld } from './demo-world.js';
import { READ_INVOICES, READ_VENDORS, approveUpTo, instanceOf, member, spawnMember } from './expense-cast.js';
import type { CastMember, ExpenseState } from './expense-cast.js';
import { PRINCIPAL } from './governance.js';
import type { StepOutcome, StepSpec } from './step-runner.js';

type Detail = readonly [string, string];

/**
 * How long each hop lasts, seconds: every hop names its own, shorter than what it is
 * delegated from, so expiry visibly only shrinks down the chain.
 */
const HOP_TTL = { manager: 240, intern: 120 } as const;

/** `from` delegates `scopes` to `to` for `ttl` seconds (with its delegated token when `fromDelegated`), and `to` adopts the grant. */
async function delegate(from: CastMember, to: CastMember, scopes: unknown[], fromDelegated: boolean, ttl: number): Promise<CallReply> {
  const target = await ask<Record<string, unknown>>(to.child, 'delegation-target');
  const grant = await ask(from.child, 'delegate', { to: target, scopes, ttl, ...(fromDelegated ? { with: 'delegated' } : {}) });
  if (grant.outcome === 'allow') await ask(to.child, 'adopt', { token: grant['token'] });
  return grant;
}

const born = (m: CastMember): Detail => ['born', `${m.role}: ${m.spiffeId} (pid ${m.child.pid})`];

/** The delegated approval and the refusals that guard the chain. */
export function approvalSteps(world: DemoWorld, state: ExpenseState): StepSpec[] {
  return [
    {
      id: 'delegated-approval-allowed',
      expected: 'allow',
      async run(): Promise<StepOutcome> {
        const details: Detail[] = [];
        const manager = (state.manager = await spawnMember(world, state.taskId, 'manager'));
        details.push(born(manager), ['launch', 'one-time launch token in BATON_LAUNCH_TOKEN, consumed at registration and deleted from the environment']);
        const intern = (state.intern = await spawnMember(world, state.taskId, 'intern'));
        details.push(born(intern));
        const toIntern = await delegate(manager, intern, [approveUpTo(10_000), READ_INVOICES, READ_VENDORS], false, HOP_TTL.manager);
        if (toIntern.outcome !== 'allow') return { actual: 'deny', code: toIntern.code, headline: 'the manager could not delegate to the intern', details };
        details.push(['hop 1', `manager → intern: ${String(toIntern['scopes'])} for ${HOP_TTL.manager} s (signed by the manager's key, countersigned by the authority)`]);

        const plan = await ask<{ spawnChecker: boolean }>(intern.child, 'plan');
        if (plan.spawnChecker) {
          const checker = (state.checker = await spawnMember(world, state.taskId, 'checker'));
          const toChecker = await delegate(intern, checker, [READ_INVOICES], true, HOP_TTL.intern);
          const read = toChecker.outcome === 'allow' ? await ask(checker.child, 'read', { invoiceId: 'inv-1001', with: 'delegated' }) : toChecker;
          details.push(born(checker), ['checker', `the intern chose to have inv-1001 checked: read-only delegation at depth 2, read ${read.outcome === 'allow' ? 'allowed' : `refused ${read.code}`}`]);
        } else {
          details.push(['checker', 'the intern chose not to bring in a checker: no such agent, no such credential']);
        }

        const executor = (state.executor = await spawnMember(world, state.taskId, 'payments-executor'));
        details.push(born(executor));
        const toExecutor = await delegate(intern, executor, [approveUpTo(5000), READ_INVOICES, READ_VENDORS], true, HOP_TTL.intern);
        if (toExecutor.outcome !== 'allow') return { actual: 'deny', code: toExecutor.code, headline: 'the intern could not delegate to the executor', details };
        details.push(['hop 2', `intern → payments-executor: ${String(toExecutor['scopes'])} for ${HOP_TTL.intern} s`]);

        const path = await ask<{ vendorFirst: boolean }>(executor.child, 'plan');
        const review = await ask<{ path: string[]; outcome: string; code: string | null }>(executor.child, 'review', {
          invoiceId: 'inv-1001',
          vendor: 'acme-supplies',
          vendorFirst: path.vendorFirst,
          with: 'delegated',
        });
        details.push(['path', `${review.path.map((p) => (p === 'getInvoice' ? 'read invoice' : 'look up vendor')).join(' → ')} (the executor's choice, seed ${world.seed})`]);
        const r = await ask(executor.child, 'approve', { invoiceId: 'inv-1001', amount: 4000, vendor: 'acme-supplies', with: 'delegated' });
        if (r.outcome === 'allow') {
          const chain = (r['chain'] as string[]).map(instanceOf).join(' → ');
          details.push(['verified', `payments guard checked the token, the proof and both hops back to ${String(r['principal'])} (depth ${String(r['depth'])}: ${chain} → ${instanceOf(executor.spiffeId)})`]);
        }
        return { actual: r.outcome, code: r.code, headline: `${PRINCIPAL} → manager → intern → payments-executor: approve inv-1001 for ${usd(4000)}`, details };
      },
    },
    {
      id: 'escalation-refused',
      expected: 'deny',
      expectedCodes: ['ERR_SCOPE_ESCALATION'],
      async run() {
        const r = await delegate(member(state, 'intern'), member(state, 'executor'), [approveUpTo(50_000)], true, HOP_TTL.intern);
        return { actual: r.outcome, code: r.code, headline: `the intern delegates approvals up to ${usd(50_000)} (it holds ${usd(10_000)})`, details: [['why', 'a hop may only narrow what its delegator holds; the delegation service checks before the issuer signs']] };
      },
    },
    {
      id: 'forged-hop-refused',
      expected: 'deny',
      expectedCodes: ['ERR_TOKEN_SIGNATURE_INVALID', 'ERR_CHAIN_SIGNATURE_INVALID', 'ERR_CHAIN_INVALID', 'ERR_CHAIN_HASH_MISMATCH', 'ERR_SCOPE_ESCALATION'],
      async run() {
        const r = await ask(member(state, 'executor').child, 'approve-forged', { claimMax: 50_000, invoiceId: 'inv-1003', amount: 50_000, vendor: 'initech' });
        return {
          actual: r.outcome,
          code: r.code,
          headline: `the executor edits its token to claim ${usd(50_000)} and presents it, with a valid proof, straight to the payments server`,
          details: [['why', "the authority's signature covers the token's claims and every hop in it"]],
        };
      },
    },
    {
      id: 'constraint-refused',
      expected: 'deny',
      expectedCodes: ['ERR_CONSTRAINT_VIOLATED'],
      async run() {
        const r = await ask(member(state, 'executor').child, 'approve', { invoiceId: 'inv-1002', amount: 6000, vendor: 'globex', with: 'delegated' });
        return { actual: r.outcome, code: r.code, headline: `the executor asks to approve ${usd(6000)} (its chain allows ${usd(5000)})` };
      },
    },
  ];
}
