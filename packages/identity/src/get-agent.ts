/**
 * GetAgent (delegation issue): what the delegation service needs to know about a
 * delegatee — whether it is a live instance, its key, where it runs — and the delegation
 * policy of the chain's workflow. Baton services only, proven by their own key.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, assertId, parseAgentSpiffeId } from '@baton/core';
import { verifyKeyProof } from '@baton/guard';
import { GetAgentResponseSchema, type GetAgentRequest, type GetAgentResponse } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { LIVE_STATUSES, findAgent } from './agents.js';
import type { IdentityContext } from './context.js';
import type { CallContext } from './proto.js';
import { findWorkflow } from './workflows.js';

/** The Baton service behind a key-proven call (ERR_PERMISSION_DENIED for any other key). */
export function authenticateService(ctx: IdentityContext, request: object, call: CallContext): string {
  const { jkt } = verifyKeyProof(call, request, { replayCache: ctx.proofReplay, clock: ctx.clock });
  const service = ctx.services.get(jkt);
  if (service === undefined) throw new BatonError('ERR_PERMISSION_DENIED', `key ${jkt} is not a Baton service`);
  return service;
}

/**
 * The agent instance with `spiffe_id` (ERR_AGENT_NOT_FOUND if identity never registered
 * it) and the delegation policy of `policy_workflow_id` (default: the agent's workflow;
 * ERR_WORKFLOW_NOT_FOUND if unknown).
 */
export async function getAgent(ctx: IdentityContext, req: GetAgentRequest): Promise<GetAgentResponse> {
  let spiffeId: string;
  try {
    spiffeId = parseAgentSpiffeId(req.spiffeId).uri;
  } catch {
    throw new BatonError('ERR_AGENT_NOT_FOUND', 'not an agent SPIFFE id');
  }
  const agent = await findAgent(ctx.db, spiffeId);
  if (!agent) throw new BatonError('ERR_AGENT_NOT_FOUND', `no agent ${spiffeId}`);
  const workflowId = req.policyWorkflowId === '' ? agent.workflowId : assertId('workflow', req.policyWorkflowId);
  const workflow = await findWorkflow(ctx.db, workflowId);
  if (!workflow) throw new BatonError('ERR_WORKFLOW_NOT_FOUND', `workflow ${workflowId}`);
  const p = workflow.policy;
  return create(GetAgentResponseSchema, {
    spiffeId: agent.spiffeId,
    live: LIVE_STATUSES.includes(agent.status),
    status: agent.status,
    workflowId: agent.workflowId,
    orchestrationId: agent.orchestrationId,
    taskId: agent.taskId,
    instanceId: agent.instanceId,
    name: agent.name,
    publicKey: Buffer.from(agent.publicKey, 'base64url'),
    keyThumbprint: agent.jkt,
    taskDeadline: BigInt(Math.floor(agent.taskDeadline / 1000)),
    delegationPolicy: {
      workflowId,
      maxDelegationDepth: p.maxDelegationDepth,
      allowRedelegation: p.allowRedelegation,
      allowedDelegationTargets: [...p.allowedDelegationTargets],
      defaultTokenTtlSeconds: p.defaultTokenTtlSeconds,
      maxTokenTtlSeconds: p.maxTokenTtlSeconds,
    },
  });
}
