/**
 * Identity's calls to IssuerService, over gRPC only. Issue and Revoke carry identity's
 * own key proof over the exact request bytes, like any other key holder's call.
 */
import { create, toBinary, type DescMessage, type MessageShape } from '@bufbuild/protobuf';
import type { Scope } from '@baton/core';
import { keyProofMetadata } from '@baton/guard';
import { clearRevokePending } from './agents.js';
import type { IdentityContext } from './context.js';
import { IssueRequestSchema, IssuerService, RevocationLevel, RevocationReason, RevokeRequestSchema, scopeToProto } from './proto.js';

/** What Register asks the issuer for. Bounds come from the workflow policy. */
export interface IssueParams {
  readonly subject: string;
  readonly instanceId: string;
  readonly workflowId: string;
  readonly orchestrationId: string;
  readonly taskId: string;
  readonly principal: string;
  readonly scopes: readonly Scope[];
  readonly audiences: readonly string[];
  /** `''` with a certificate thumbprint: bound to the certificate alone. */
  readonly keyThumbprint: string;
  /** base64url SHA-256 of the holder's SVID (`cnf["x5t#S256"]`). Default: none. */
  readonly certificateThumbprint?: string;
  readonly requestedTtlSeconds: number;
  readonly defaultTtlSeconds: number;
  readonly maxTtlSeconds: number;
  readonly taskDeadlineSeconds: number;
  readonly maxRenewals: number;
}

/** The first access token as the issuer granted it. */
export interface IssuedToken {
  readonly accessToken: string;
  /** Unix seconds. */
  readonly expiresAt: bigint;
  readonly grantedTtlSeconds: number;
}

function proofFor<M extends DescMessage>(ctx: IdentityContext, schema: M, message: MessageShape<M>, method: Parameters<typeof keyProofMetadata>[1]): Record<string, string> {
  return keyProofMetadata(ctx.serviceKey, method, toBinary(schema, message), ctx.clock.now());
}

/** Issue over gRPC as the identity service. */
export async function issueAccessToken(ctx: IdentityContext, p: IssueParams): Promise<IssuedToken> {
  const req = create(IssueRequestSchema, {
    subject: p.subject,
    workflowId: p.workflowId,
    orchestrationId: p.orchestrationId,
    taskId: p.taskId,
    principal: p.principal,
    scopes: p.scopes.map((s) => scopeToProto(s)),
    audiences: [...p.audiences],
    keyThumbprint: p.keyThumbprint,
    certificateThumbprint: p.certificateThumbprint ?? '',
    requestedTtlSeconds: p.requestedTtlSeconds,
    defaultTtlSeconds: p.defaultTtlSeconds,
    maxTtlSeconds: p.maxTtlSeconds,
    taskDeadline: BigInt(p.taskDeadlineSeconds),
    maxRenewals: p.maxRenewals,
    instanceId: p.instanceId,
  });
  const res = await ctx.issuerClient.issue(req, { metadata: proofFor(ctx, IssueRequestSchema, req, IssuerService.method.issue) });
  return { accessToken: res.accessToken, expiresAt: res.expiresAt, grantedTtlSeconds: res.grantedTtlSeconds };
}

/** Why identity revokes an agent. */
export type AgentRevocationReason = 'SUPERSEDED' | 'HEARTBEAT';

/**
 * Revoke(AGENT, spiffeId, reason) over gRPC, then clears the instance's pending flag.
 * Throws the issuer's error (the flag then stays for the sweeper to retry).
 */
export async function revokeAgentAtIssuer(ctx: IdentityContext, spiffeId: string, reason: AgentRevocationReason): Promise<void> {
  const req = create(RevokeRequestSchema, {
    level: RevocationLevel.AGENT,
    target: spiffeId,
    reason: reason === 'SUPERSEDED' ? RevocationReason.SUPERSEDED : RevocationReason.HEARTBEAT,
  });
  await ctx.issuerClient.revoke(req, { metadata: proofFor(ctx, RevokeRequestSchema, req, IssuerService.method.revoke) });
  await clearRevokePending(ctx.db, spiffeId);
}

/** The issuer's JWKS (GetKeys is unauthenticated). */
export async function fetchIssuerJwks(ctx: IdentityContext): Promise<string> {
  const res = await ctx.issuerClient.getKeys({});
  return res.jwks;
}
