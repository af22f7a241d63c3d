/**
 * X.509-SVIDs for agents: issued at registration and renewed on request (the agent SDK
 * asks at half the lifetime). An SVID certifies the agent's registered Ed25519 key —
 * the same key its tokens are bound to (`cnf.jkt`) — and names its SPIFFE id. It lives
 * `svidTtlSeconds` at most, and never past the task deadline.
 *
 * Every issuance is audited (`svid.issued`) before the SVID leaves identity, and every
 * refused request of an authenticated agent as `svid.denied` with its code.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, isBatonError, publicKeyFromRaw } from '@baton/core';
import type { AllowDecision } from '@baton/guard';
import { RenewSvidResponseSchema, X509SvidSchema, type RenewSvidResponse, type X509Svid } from '@baton/proto/baton/identity/v1/identity_pb.js';
import type { AgentRecord } from './agents.js';
import { emit, type IdentityContext } from './context.js';
import { liveAgent } from './heartbeats.js';
import { caRotationRecord, svidDeniedRecord, svidIssuedRecord, type SvidDeniedSubject, type SvidMode } from './svid-audit.js';

/** The facts of an agent instance an SVID is made from (and audited with). */
export type SvidSubject = Pick<AgentRecord, 'spiffeId' | 'publicKey' | 'taskDeadline' | 'workflowId' | 'orchestrationId' | 'taskId' | 'principal'>;

const seconds = (ms: number): bigint => BigInt(Math.floor(ms / 1000));

/** Audits a refusal, then throws it. */
async function deny(ctx: IdentityContext, subject: SvidDeniedSubject, err: BatonError, mode: SvidMode): Promise<never> {
  await emit(ctx, svidDeniedRecord(subject, err, mode));
  throw err;
}

/**
 * An SVID for `agent`, or undefined when identity runs without a CA.
 * ERR_TASK_DEADLINE_PASSED when the task has no time left.
 */
export async function issueAgentSvid(ctx: IdentityContext, agent: SvidSubject, mode: SvidMode): Promise<X509Svid | undefined> {
  const ca = ctx.ca;
  if (!ca) return undefined;
  const now = ctx.clock.now();
  const notAfter = Math.min(now + ctx.limits.svidTtlSeconds * 1000, agent.taskDeadline);
  if (notAfter <= now) await deny(ctx, agent, new BatonError('ERR_TASK_DEADLINE_PASSED', 'no task time left for an SVID'), mode);
  const issued = await ca.issue(agent.spiffeId, publicKeyFromRaw(Buffer.from(agent.publicKey, 'base64url')), notAfter);
  if (issued.rotatedFrom !== undefined) await emit(ctx, caRotationRecord(issued.kid, issued.rotatedFrom));
  // Durable before the SVID is returned: an unaudited SVID never reaches an agent.
  await emit(ctx, svidIssuedRecord(agent, issued, mode));
  return create(X509SvidSchema, {
    certificate: issued.certificate,
    notBefore: seconds(issued.notBefore),
    notAfter: seconds(issued.notAfter),
    x509Authorities: ca.authorities(),
  });
}

/** RenewSvid for the authenticated agent call `caller` (its token's `cnf.jkt`, if any, must be the registered key). */
export async function renewSvid(ctx: IdentityContext, caller: Pick<AllowDecision, 'subject' | 'principal' | 'claims'>): Promise<RenewSvidResponse> {
  // What the verified token says, for refusals that happen before the agent row is read.
  const claimed: SvidDeniedSubject = {
    spiffeId: caller.subject,
    workflowId: caller.claims.wf,
    orchestrationId: caller.claims.orch_id,
    taskId: caller.claims.task_id,
    principal: caller.principal,
  };
  let agent: AgentRecord;
  try {
    if (!ctx.ca) throw new BatonError('ERR_UNAVAILABLE', 'this authority runs no identity CA');
    agent = await liveAgent(ctx, caller.subject, caller.claims.cnf.jkt);
  } catch (err) {
    if (isBatonError(err)) await deny(ctx, claimed, err, 'renewal');
    throw err;
  }
  const svid = await issueAgentSvid(ctx, agent, 'renewal');
  return create(RenewSvidResponseSchema, { ...(svid ? { svid } : {}) });
}
