/**
 * The guard under test as the create-guard suites build it: fixture keys, a static key
 * source, a bounded replay cache, and every decision recorded.
 */
import { ReplayCache, type ErrorCode } from '@baton/core';
import { createGuard, type Guard } from '../create-guard.js';
import type { Decision, DecisionInfo } from '../decision.js';
import type { GuardOptions } from '../guard-options.js';
import { staticKeys } from '../key-source.js';
import { AUDIENCE, ISSUER, fixture, type Fixture } from './fixtures.js';

/** A request the fixture's default scopes permit. */
export const approve = { action: 'approve', resource: 'invoice', attributes: { amount: 500 } };

/** A guard over a fresh (or the given) fixture. */
export function setup(extra: Partial<GuardOptions> = {}, f: Fixture = fixture()) {
  const replayCache = new ReplayCache({ maxEntries: 1000 });
  const decisions: [Decision, DecisionInfo][] = [];
  const guard = createGuard({
    audience: AUDIENCE,
    issuer: ISSUER,
    keys: staticKeys(new Map([[f.kid, f.issuerKey.publicKey]])),
    clock: f.clock,
    replayCache,
    onDecision: (d, i) => void decisions.push([d, i]),
    ...extra,
  });
  return { f, guard, replayCache, decisions };
}

/** The decision's code, or ALLOW. */
export async function codeOf(guard: Guard, input: Parameters<Guard['check']>[0]): Promise<ErrorCode | 'ALLOW'> {
  const d = await guard.check(input);
  return d.allow ? 'ALLOW' : d.code;
}

/** The fixture clock in seconds. */
export function now(f: Fixture): number {
  return Math.floor(f.clock.now() / 1000);
}

/** Claims of a token whose exp lies `s` seconds in the past. */
export function expiredBy(f: Fixture, s: number): Record<string, unknown> {
  const n = now(f);
  return { exp: n - s, iat: n - s - 300, nbf: n - s - 300, tdl: n + 3600 };
}
