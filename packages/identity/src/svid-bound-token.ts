/**
 * IssueSvidBoundToken: an agent trades its key-bound token (DPoP) for one bound to its
 * X.509-SVID (`cnf["x5t#S256"]`, RFC 8705), for calls over mTLS where the TLS handshake
 * is the proof of possession. The new token never carries more than the one presented:
 * same subject and task, scopes and audiences equal or narrower, no later expiry.
 *
 * The certificate must be a current SVID of this trust domain naming the caller and
 * certifying the caller's registered key: a token can only be bound to a certificate
 * whose private key the caller itself holds.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, coversAll, nowSeconds, publicKeyFromRaw, type Scope } from '@baton/core';
import type { AllowDecision } from '@baton/guard';
import { IssueSvidBoundTokenResponseSchema, type IssueSvidBoundTokenRequest, type IssueSvidBoundTokenResponse } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { TrustBundle, verifySvid } from '@baton/x509';
import type { IdentityContext } from './context.js';
import { liveAgent } from './heartbeats.js';
import { issueAccessToken } from './issuer-calls.js';
import { scopesFromProto } from './policy.js';
import { findWorkflow } from './workflows.js';

/** Handler for an agent the guard authenticated with a key-bound token. */
export async function issueSvidBoundToken(ctx: IdentityContext, decision: AllowDecision, req: IssueSvidBoundTokenRequest): Promise<IssueSvidBoundTokenResponse> {
  const ca = ctx.ca;
  if (!ca) throw new BatonError('ERR_UNAVAILABLE', 'this authority runs no identity CA');
  const claims = decision.claims;
  if (claims.del !== undefined || claims.act !== undefined) throw new BatonError('ERR_PERMISSION_DENIED', 'a delegated token cannot be re-bound');
  if (claims.cnf.jkt === undefined) throw new BatonError('ERR_PERMISSION_DENIED', 'only a key-bound token can be exchanged');

  // Structure of the request before any lookup.
  const requested: Scope[] = scopesFromProto(req.scopes, 'ERR_SCOPE_INVALID');
  const held = typeof claims.aud === 'string' ? [claims.aud] : [...claims.aud];
  const resourceAudiences = held.filter((a) => a !== ctx.issuer);
  for (const a of req.audiences) {
    if (!resourceAudiences.includes(a)) throw new BatonError('ERR_SCOPE_ESCALATION', `audience ${a} is not in the presented token`);
  }
  const scopes = requested.length > 0 ? requested : [...decision.scopes];
  const cover = coversAll(decision.scopes, scopes);
  if (!cover.ok) throw new BatonError('ERR_SCOPE_ESCALATION', `scope ${cover.index}: ${cover.reason}`);

  const bundle = TrustBundle.fromDer(ctx.trustDomain, ca.authorities());
  const svid = verifySvid(req.certificate, { bundle, role: 'client', expectedId: decision.subject, nowMs: ctx.clock.now() });
  const agent = await liveAgent(ctx, decision.subject, claims.cnf.jkt);
  const registered = publicKeyFromRaw(Buffer.from(agent.publicKey, 'base64url')).export({ format: 'der', type: 'spki' });
  if (!svid.certificate.spki.equals(registered)) throw new BatonError('ERR_CERT_BINDING_MISMATCH', 'the certificate does not certify the registered key');

  const remaining = claims.exp - nowSeconds(ctx.clock);
  if (remaining < 1) throw new BatonError('ERR_TOKEN_EXPIRED', 'the presented token has no time left');
  const ttl = req.requestedTtlSeconds > 0 ? Math.min(req.requestedTtlSeconds, remaining) : remaining;
  const wf = await findWorkflow(ctx.db, agent.workflowId);
  if (!wf) throw new BatonError('ERR_WORKFLOW_NOT_FOUND', `workflow ${agent.workflowId}`);

  const issued = await issueAccessToken(ctx, {
    subject: agent.spiffeId,
    instanceId: agent.instanceId,
    workflowId: agent.workflowId,
    orchestrationId: agent.orchestrationId,
    taskId: agent.taskId,
    principal: agent.principal,
    scopes,
    audiences: req.audiences.length > 0 ? [...req.audiences] : resourceAudiences,
    // Bound to the certificate alone: over mTLS the handshake proves possession.
    keyThumbprint: '',
    certificateThumbprint: svid.thumbprint,
    requestedTtlSeconds: ttl,
    defaultTtlSeconds: Math.min(ttl, wf.policy.defaultTokenTtlSeconds),
    maxTtlSeconds: Math.min(ttl, wf.policy.maxTokenTtlSeconds),
    taskDeadlineSeconds: claims.tdl,
    maxRenewals: wf.policy.maxRenewals,
  });
  return create(IssueSvidBoundTokenResponseSchema, {
    accessToken: issued.accessToken,
    expiresAt: issued.expiresAt,
    grantedTtlSeconds: issued.grantedTtlSeconds,
    certificateThumbprint: svid.thumbprint,
  });
}
