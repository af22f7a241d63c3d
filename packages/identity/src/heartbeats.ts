/**
 * Heartbeat: an agent reports liveness and task state. A missed-heartbeat sweep
 * (see sweeper.ts) flags agents that went quiet and, where the workflow says so,
 * revokes them.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError } from '@baton/core';
import { HeartbeatResponseSchema, TaskState, type HeartbeatRequest, type HeartbeatResponse } from './proto.js';
import { findAgent, type AgentRecord } from './agents.js';
import type { IdentityContext } from './context.js';

const KNOWN_STATES = new Set<number>([TaskState.UNSPECIFIED, TaskState.ACTIVE, TaskState.IDLE, TaskState.COMPLETING]);

/**
 * The live instance behind an authenticated agent call. Superseded, revoked and failed
 * instances are refused even when their token still verifies (the revocation may not
 * have reached this replica's guard yet).
 */
export async function liveAgent(ctx: IdentityContext, subject: string, jkt: string | undefined): Promise<AgentRecord> {
  const agent = await findAgent(ctx.db, subject);
  if (!agent || agent.status === 'failed') throw new BatonError('ERR_AGENT_NOT_FOUND', 'no such agent instance');
  if (agent.status === 'superseded') throw new BatonError('ERR_AGENT_SUPERSEDED', 'agent instance superseded');
  if (agent.status === 'revoked') throw new BatonError('ERR_TOKEN_REVOKED', 'agent instance revoked');
  // Delegated tokens are bound to the delegatee's own key, which is this instance's key.
  if (jkt !== undefined && jkt !== agent.jkt) throw new BatonError('ERR_PROOF_KEY_MISMATCH', 'token key is not the registered key');
  return agent;
}

/** Heartbeat handler for the authenticated agent `subject`. */
export async function heartbeat(ctx: IdentityContext, subject: string, jkt: string | undefined, req: HeartbeatRequest): Promise<HeartbeatResponse> {
  if (!KNOWN_STATES.has(req.state)) throw new BatonError('ERR_INVALID_ARGUMENT', 'unknown task state');
  const agent = await liveAgent(ctx, subject, jkt);
  const state = req.state === TaskState.UNSPECIFIED ? TaskState.ACTIVE : req.state;
  // A flagged agent that speaks again is live again (its flag was not acted on).
  const r = await ctx.db.run(
    "UPDATE identity_agents SET last_seen_at = ?, task_state = ?, status = 'active' WHERE spiffe_id = ? AND status IN ('active', 'flagged')",
    [ctx.clock.now(), state, agent.spiffeId],
  );
  // The sweeper may have revoked it between the read and this write.
  if (r.changes !== 1) throw new BatonError('ERR_TOKEN_REVOKED', 'agent instance no longer live');
  return create(HeartbeatResponseSchema, { nextIntervalSeconds: agent.heartbeatIntervalSeconds });
}
