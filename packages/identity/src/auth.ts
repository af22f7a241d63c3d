/**
 * Who is calling identity. Operators and orchestrators prove their key over the exact
 * request bytes (`baton-proof`); agents present their DPoP-bound access token, checked by
 * the guard. A proof that verifies but belongs to nobody known is ERR_PERMISSION_DENIED;
 * a bad proof keeps its own ERR_PROOF_* code.
 */
import { BatonError } from '@baton/core';
import { authenticateCall, verifyKeyProof, type AllowDecision } from '@baton/guard';
import type { IdentityContext } from './context.js';
import { findOrchestratorByJkt } from './orchestrators.js';
import { MetadataKey, type CallContext } from './proto.js';

/** The operator id behind a key-proven call. */
export function authenticateOperator(ctx: IdentityContext, request: object, call: CallContext): string {
  const { jkt } = verifyKeyProof(call, request, { replayCache: ctx.proofReplay, clock: ctx.clock });
  const operator = ctx.operators.get(jkt);
  if (operator === undefined) throw new BatonError('ERR_PERMISSION_DENIED', `key ${jkt} is not an operator`);
  return operator;
}

/** The orchestrator id behind a key-proven call. */
export async function authenticateOrchestrator(ctx: IdentityContext, request: object, call: CallContext): Promise<string> {
  const { jkt } = verifyKeyProof(call, request, { replayCache: ctx.proofReplay, clock: ctx.clock });
  const orchestrator = await findOrchestratorByJkt(ctx.db, jkt);
  if (!orchestrator) throw new BatonError('ERR_PERMISSION_DENIED', `key ${jkt} is not a registered orchestrator`);
  return orchestrator.id;
}

/** The guard's allow decision for an agent call; throws the decision's code on deny. */
export function authenticateAgent(ctx: IdentityContext, call: CallContext): Promise<AllowDecision> {
  return authenticateCall(ctx.guard, call);
}

/** True when the call carries agent credentials (used where authentication is optional). */
export function hasAgentCredentials(call: CallContext): boolean {
  return call.metadata.get(MetadataKey.authorization).length > 0;
}
