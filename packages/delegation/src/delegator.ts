/**
 * Who is delegating: the caller's DPoP-bound token, verified by the guard (signature,
 * proof of possession, revocation view, and its own chain when it is itself a
 * delegatee), then asked online at the issuer whether it is still live (not released,
 * revoked or renewed away). A delegated caller's chain is rebuilt so the new hop can be
 * appended to it.
 */
import { BatonError, isErrorCode, sha256B64url, type AccessTokenClaims, type Scope } from '@baton/core';
import { MetadataKey, type CallContext } from '@baton/proto';
import type { Metadata } from '@grpc/grpc-js';
import type { DelegationContext } from './service-context.js';
import { verifyDelegatedClaims, type VerifiedChain } from './verify-chain.js';

/** The authenticated delegator. */
export interface Delegator {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  /** Its current authority (the token's scopes). */
  readonly scopes: readonly Scope[];
  /** Its chain when its token is itself delegated. */
  readonly chain?: VerifiedChain;
}

function single(md: Metadata, key: string): string | undefined {
  const v = md.get(key);
  if (v.length !== 1 || typeof v[0] !== 'string') return undefined;
  return v[0];
}

/** `authorization: DPoP <token>` and `dpop: <proof>` of a call. */
export function agentCredentials(md: Metadata): { token?: string; proof?: string } {
  const auth = single(md, MetadataKey.authorization);
  if (auth === undefined) return {};
  const sp = auth.indexOf(' ');
  if (sp === -1 || auth.slice(0, sp).toLowerCase() !== 'dpop') return {};
  const proof = single(md, MetadataKey.dpop);
  const token = auth.slice(sp + 1).trim();
  return proof === undefined ? { token } : { token, proof };
}

/** Live-state check at the issuer; throws the issuer's code when the token is not live. */
export async function checkLive(ctx: DelegationContext, token: string): Promise<void> {
  if (!ctx.onlineCheck) return;
  const r = await ctx.issuerClient.introspect({ token });
  if (r.active) return;
  const code = isErrorCode(r.inactiveCode) && r.inactiveCode !== 'ERR_INTERNAL' ? r.inactiveCode : 'ERR_TOKEN_REVOKED';
  throw new BatonError(code, `issuer reports the delegator's token inactive (${r.inactiveCode || 'no code'})`);
}

/** Authenticates the caller of Delegate. Throws the guard's (or issuer's) code on refusal. */
export async function authenticateDelegator(ctx: DelegationContext, call: CallContext): Promise<Delegator> {
  const { token, proof } = agentCredentials(call.metadata);
  const cert = call.peerCertificate;
  const verdict = await ctx.guard.check({
    token,
    proof,
    htm: 'POST',
    htu: call.method,
    certificateThumbprint: cert === undefined ? undefined : sha256B64url(cert.der),
    route: { authenticateOnly: true },
  });
  if (!verdict.allow) throw new BatonError(verdict.code, verdict.reason);
  await checkLive(ctx, token!);
  const claims = verdict.claims;
  if (claims.del === undefined) return { token: token!, claims, scopes: verdict.scopes };
  const del = claims.del;
  const hops = del.ref !== undefined && del.hops === undefined ? await ctx.resolveChain({ reference: del.ref, chainHash: del.ch }) : undefined;
  const chain = verifyDelegatedClaims(claims, hops === undefined ? {} : { hops });
  return { token: token!, claims, scopes: verdict.scopes, chain };
}
