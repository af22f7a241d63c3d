/**
 * The agents of the expense-approval task, spawned by the orchestrator (the driver) when
 * the task needs them, each with its own one-time launch token and a small ceiling of its
 * own: approval authority reaches the intern and the executor only by delegation.
 */
import type { Scope } from '@baton/core';
import type { ChildHandle } from './child-process.js';
import type { DemoWorld } from './demo-world.js';
import { mintLaunchToken } from './governance.js';
import { inSpan } from './process-tracing.js';

/** Approve payments up to `max` dollars (never negative). */
export const approveUpTo = (max: number): Scope => ({ action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max } } });
export const READ_INVOICES: Scope = { action: 'read', resource: 'invoices' };
export const READ_VENDORS: Scope = { action: 'read', resource: 'vendors' };

/** Roles and what each is launched with (before any delegation). */
export const LAUNCH_CEILINGS: Readonly<Record<string, readonly Scope[]>> = Object.freeze({
  manager: [approveUpTo(10_000), READ_INVOICES, READ_VENDORS],
  intern: [READ_INVOICES],
  'payments-executor': [READ_VENDORS],
  checker: [READ_VENDORS],
});

/** A running agent of the cast. */
export interface CastMember {
  readonly role: string;
  readonly child: ChildHandle;
  readonly spiffeId: string;
  readonly launchToken: string;
}

/** Mints a launch token for `role` and spawns its process (in the current trace). */
export async function spawnMember(world: DemoWorld, taskId: string, role: string): Promise<CastMember> {
  const ceiling = LAUNCH_CEILINGS[role];
  if (!ceiling) throw new TypeError(`unknown role ${role}`);
  return inSpan(`orchestrator: spawn ${role}`, async () => {
    const { launchToken } = await mintLaunchToken(world.governance, taskId, ceiling);
    const child = await world.spawnAgent(role, launchToken);
    return { role, child, spiffeId: String(child.ready['spiffeId']), launchToken };
  });
}

/** The last path segment of a SPIFFE id (the instance), for short narration. */
export const instanceOf = (spiffeId: string): string => spiffeId.slice(spiffeId.lastIndexOf('/') + 1);

/** What the steps share as the scenario goes. */
export interface ExpenseState {
  readonly taskId: string;
  manager?: CastMember;
  intern?: CastMember;
  executor?: CastMember;
  checker?: CastMember;
}

/** A member that must exist by now. */
export function member(state: ExpenseState, role: 'manager' | 'intern' | 'executor'): CastMember {
  const m = state[role];
  if (!m) throw new Error(`the ${role} is not running (an earlier step failed)`);
  return m;
}
