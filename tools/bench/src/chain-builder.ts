/**
 * Real delegation chains for the benchmarks: registered agents delegate to each other
 * through the agent SDK and the DelegationService (the delegator signs each hop with its
 * own key, the authority countersigns the child token), each hop narrowing the payment
 * limit, exactly as in the expense-approval example.
 */
import type { Agent, CallMetadata } from '@baton/agent';
import { isBatonError } from '@baton/core';
import { verifyChain } from '@baton/delegation';
import { jwksFromIssuer } from '@baton/guard';
import { ISSUER, type BenchAuthority } from './bench-authority.js';

/** One token of a chain: depth 0 is the root agent's own token. */
export interface ChainLink {
  readonly depth: number;
  /** The compact access token held at this depth. */
  readonly token: string;
  /** Credentials (token + fresh single-use proof) for one call to `method`. */
  callMetadata(method: string): CallMetadata;
}

/** The payment limit at `depth`: every hop narrows it. */
export function limitAt(depth: number): number {
  return 10_000 - 1000 * depth;
}

function scopesAt(depth: number): Array<string | { action: string; resource: string; constraints: Record<string, { max: number }> }> {
  return [{ action: 'approve', resource: 'payments', constraints: { max_amount: { max: limitAt(depth) } } }, 'read:invoices'];
}

/** How many chain builds were redone (reported in the rows' notes). */
const chainRetries = { count: 0 };

/** `; n chain build(s) redone …` for a row's note, or '' when none was. */
export function retryNote(): string {
  return chainRetries.count === 0 ? '' : `; ${chainRetries.count} chain build(s) redone after ERR_DELEGATION_EXPIRY_EXCEEDED (a child token issued one second past its hop's expiry)`;
}

async function buildOnce(authority: BenchAuthority, maxDepth: number, label: string): Promise<ChainLink[]> {
  const agents: Agent[] = [];
  for (let i = 0; i <= maxDepth; i++) agents.push(await authority.agent(`bench-${label}-${i}`));
  const root = agents[0]!;
  const links: ChainLink[] = [{ depth: 0, token: root.token(), callMetadata: (m) => root.callMetadata(m) }];
  let holder: { delegate: Agent['delegate'] } = root;
  for (let d = 1; d <= maxDepth; d++) {
    const to = agents[d]!;
    const grant = await holder.delegate(to.delegationTarget, scopesAt(d));
    const adopted = to.adoptDelegatedToken(grant.token);
    links.push({ depth: d, token: adopted.token(), callMetadata: (m) => adopted.callMetadata(m) });
    holder = adopted;
  }
  return links;
}

/**
 * Registers `maxDepth + 1` agents and delegates from each to the next; returns the token
 * at every depth 0..maxDepth (root first). Every token is checked offline with
 * `verifyChain`. A build refused with ERR_DELEGATION_EXPIRY_EXCEEDED (a child token
 * issued one second past its hop when the clock ticks mid-delegation; reported as a
 * finding) is redone with fresh agents, at most 4 times, and counted (see {@link retryNote}).
 */
export async function buildChain(authority: BenchAuthority, maxDepth: number, label = 'chain'): Promise<ChainLink[]> {
  const keys = jwksFromIssuer(authority.issuerClient);
  await keys.ready();
  for (let attempt = 0; ; attempt++) {
    try {
      const links = await buildOnce(authority, maxDepth, `${label}-${attempt}`);
      for (const l of links.slice(1)) verifyChain(l.token, { keys, issuer: ISSUER });
      return links;
    } catch (err) {
      if (attempt >= 4 || !isBatonError(err) || err.code !== 'ERR_DELEGATION_EXPIRY_EXCEEDED') throw err;
      chainRetries.count++;
    }
  }
}
