/**
 * What an agent process does on the driver's commands. Each command runs in a span that
 * continues the driver's trace, so a step's tree shows driver → agent → payments. Calls
 * name the credentials they use (`with`: `own` or `delegated`).
 */
import type { Agent, DelegateeRef } from '@baton/agent';
import type { Scope } from '@baton/core';
import { createClient } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { AgentCredentials } from './agent-credentials.js';
import { outcomeOf } from './call-outcome.js';
import type { Command, CommandHandler } from './line-protocol.js';
import { numberField, stringField } from './line-protocol.js';
import { dumpThisProcess } from './memory-dump.js';
import { contextOf, inSpan, recordCode } from './process-tracing.js';
import { describeScopes } from './scope-text.js';
import { seededRandom } from './seeded-random.js';

/** What the command handlers work with. */
export interface AgentContext {
  readonly agent: Agent;
  readonly name: string;
  readonly paymentsTarget: string;
  readonly seed: string;
  /** Stop the process (after releasing). */
  readonly exit: () => void;
}

const GET_INVOICE = `/${PaymentsService.typeName}/GetInvoice`;

const denied = (code: string): Record<string, unknown> => ({ outcome: 'deny', code });

function invoiceRequest(command: Command): { invoiceId: string; amount: number; vendor: string } {
  return { invoiceId: stringField(command, 'invoiceId'), amount: numberField(command, 'amount'), vendor: stringField(command, 'vendor') };
}

/** The command table of an agent process. */
export function agentCommands(ctx: AgentContext): Record<string, CommandHandler> {
  const { agent } = ctx;
  const random = seededRandom(`${ctx.seed}:${ctx.name}`);
  const creds = new AgentCredentials(agent, ctx.paymentsTarget);
  // Credentials for one GetInvoice call made before release, replayed after it.
  let prepared: Record<string, string> | undefined;

  const traced =
    (handler: (command: Command) => Promise<Record<string, unknown>>): CommandHandler =>
    (command) =>
      inSpan(`agent ${ctx.name}: ${command.cmd}`, async (span) => {
        const result = await handler(command);
        recordCode(span, typeof result['code'] === 'string' ? result['code'] : undefined);
        return result;
      }, { parent: contextOf(command.traceparent) });

  return {
    // The choices left to the agent, made once and reported: which record to read
    // first, and whether to bring in a checker before approving.
    plan: traced(async () => ({ vendorFirst: random() < 0.5, spawnChecker: random() < 0.5 })),

    // Reads what it needs before approving, in the order its plan says.
    review: traced(async (command) => {
      const invoiceId = stringField(command, 'invoiceId');
      const vendor = stringField(command, 'vendor');
      const payments = creds.payments(AgentCredentials.choiceOf(command['with']));
      const path = command['vendorFirst'] === true ? (['lookupVendor', 'getInvoice'] as const) : (['getInvoice', 'lookupVendor'] as const);
      const results: Record<string, unknown>[] = [];
      for (const step of path) {
        const r = await outcomeOf<unknown>(() => (step === 'getInvoice' ? payments.getInvoice({ invoiceId }) : payments.lookupVendor({ vendor })));
        results.push(r.outcome === 'allow' ? { call: step, outcome: 'allow', code: null } : { call: step, ...denied(r.code) });
      }
      const refused = results.find((r) => r['outcome'] === 'deny');
      return { path: [...path], results, outcome: refused ? 'deny' : 'allow', code: refused?.['code'] ?? null };
    }),

    read: traced(async (command) => {
      const r = await outcomeOf(() => creds.payments(AgentCredentials.choiceOf(command['with'])).getInvoice({ invoiceId: stringField(command, 'invoiceId') }));
      return r.outcome === 'allow' ? { outcome: 'allow', code: null } : denied(r.code);
    }),

    approve: traced(async (command) => {
      const r = await outcomeOf(() => creds.payments(AgentCredentials.choiceOf(command['with'])).approveInvoice(invoiceRequest(command)));
      if (r.outcome === 'deny') return denied(r.code);
      const v = r.value;
      return { outcome: 'allow', code: null, approvalId: v.approvalId, approvedBy: v.approvedBy, principal: v.principal, depth: v.delegationDepth, chain: v.chain };
    }),

    // A delegated token edited to claim more, presented with a valid proof.
    'approve-forged': traced(async (command) => {
      const r = await outcomeOf(() => creds.forgedPayments(numberField(command, 'claimMax')).approveInvoice(invoiceRequest(command)));
      return r.outcome === 'allow' ? { outcome: 'allow', code: null } : denied(r.code);
    }),

    // Who this agent is, for a delegator: SPIFFE id and public key, nothing secret.
    'delegation-target': traced(async () => ({ ...agent.delegationTarget })),

    delegate: traced(async (command) => {
      const to = command['to'] as DelegateeRef;
      const scopes = command['scopes'] as Scope[];
      const ttl = command['ttl'];
      const from = AgentCredentials.choiceOf(command['with']);
      const options = typeof ttl === 'number' ? { ttl } : {};
      const r = await outcomeOf(() => (from === 'delegated' ? creds.delegated.delegate(to, scopes, options) : agent.delegate(to, scopes, options)));
      if (r.outcome === 'deny') return denied(r.code);
      const g = r.value;
      return { outcome: 'allow', code: null, token: g.token, depth: g.depth, hopHash: g.hopHash, chainHash: g.chainHash, expiresAt: g.expiresAt, scopes: describeScopes(g.scopes) };
    }),

    adopt: traced(async (command) => {
      const d = creds.adopt(stringField(command, 'token'));
      return { depth: d.depth, principal: d.principal, scopes: describeScopes(d.scopes), expiresAt: d.expiresAt };
    }),

    // The framework bug: something in the agent's process reads its current access token
    // and sends it out. The private key has no getter, so it cannot leak the same way.
    'leak-token': traced(async (command) => ({ token: creds.of(AgentCredentials.choiceOf(command['with'])).token() })),

    // The framework bug of the exfiltration demo: environment, kernel environ, heap.
    dump: traced(async () => dumpThisProcess({ heap: true })),

    // Credentials for a later GetInvoice, made while the token is still live.
    'prepare-replay': traced(async (command) => {
      const md = creds.of(AgentCredentials.choiceOf(command['with'])).callMetadata(GET_INVOICE);
      prepared = { authorization: md.authorization, dpop: md.dpop };
      return { prepared: true };
    }),

    // Uses the credentials prepared earlier, over a plain channel (the agent's own
    // channels close on release).
    'replay-prepared': traced(async (command) => {
      if (!prepared) throw new TypeError('replay-prepared: nothing prepared');
      const client = createClient(PaymentsService, ctx.paymentsTarget);
      try {
        const r = await outcomeOf(() => client.getInvoice({ invoiceId: stringField(command, 'invoiceId') }, { metadata: prepared! }));
        return r.outcome === 'allow' ? { outcome: 'allow', code: null } : denied(r.code);
      } finally {
        client.close();
        prepared = undefined;
      }
    }),

    release: traced(async () => {
      await agent.release('task complete');
      return { released: true, status: agent.status };
    }),

    exit: async () => {
      setImmediate(ctx.exit);
      return { exiting: true };
    },
  };
}
