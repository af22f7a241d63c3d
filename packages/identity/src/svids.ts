/**
 * X.509-SVIDs for agents: issued at registration and renewed on request (the agent SDK
 * asks at half the lifetime). An SVID certifies the agent's registered Ed25519 key —
 * the same key its tokens are bound to (`cnf.jkt`) — and names its SPIFFE id. It lives
 * `svidTtlSeconds` at most, and never past the task deadline.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, publicKeyFromRaw } from '@baton/core';
import { RenewSvidResponseSchema, X509SvidSchema, type RenewSvidResponse, type X509Svid } from '@baton/proto/baton/identity/v1/identity_pb.js';
import type { AgentRecord } from './agents.js';
import type { IdentityContext } from './context.js';
import { liveAgent } from './heartbeats.js';

/** The facts of an agent instance an SVID is made from. */
export type SvidSubject = Pick<AgentRecord, 'spiffeId' | 'publicKey' | 'taskDeadline'>;

const seconds = (ms: number): bigint => BigInt(Math.floor(ms / 1000));

/**
 * An SVID for `agent`, or undefined when identity runs without a CA.
 * ERR_TASK_DEADLINE_PASSED when the task has no time left.
 */
export async function issueAgentSvid(ctx: IdentityContext, agent: SvidSubject): Promise<X509Svid | undefined> {
  const ca = ctx.ca;
  if (!ca) return undefined;
  const now = ctx.clock.now();
  const notAfter = Math.min(now + ctx.limits.svidTtlSeconds * 1000, agent.taskDeadline);
  if (notAfter <= now) throw new BatonError('ERR_TASK_DEADLINE_PASSED', 'no task time left for an SVID');
  const issued = await ca.issue(agent.spiffeId, publicKeyFromRaw(Buffer.from(agent.publicKey, 'base64url')), notAfter);
  return create(X509SvidSchema, {
    certificate: issued.certificate,
    notBefore: seconds(issued.notBefore),
    notAfter: seconds(issued.notAfter),
    x509Authorities: ca.authorities(),
  });
}

/** RenewSvid for the authenticated agent `subject` (its token's `cnf.jkt`, if any). */
export async function renewSvid(ctx: IdentityContext, subject: string, jkt: string | undefined): Promise<RenewSvidResponse> {
  if (!ctx.ca) throw new BatonError('ERR_UNAVAILABLE', 'this authority runs no identity CA');
  const agent = await liveAgent(ctx, subject, jkt);
  const svid = await issueAgentSvid(ctx, agent);
  return create(RenewSvidResponseSchema, { ...(svid ? { svid } : {}) });
}
