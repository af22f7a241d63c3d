/**
 * An authorizer for AuditService calls made by key holders (Baton services, guards,
 * operators): a `baton-proof` proof signed by the caller's key, with `htm` POST, `htu`
 * the gRPC method path and `rh` the hash of the exact request bytes received — so a
 * proof cannot be replayed or moved to another batch — from a key the registry knows.
 */
import { BatonError, sha256B64url, systemClock, verifyProof, type Clock, type ReplayCache } from '@baton/core';
import { MetadataKey, rawBytesOf, type CallContext } from '@baton/proto';
import type { AuditAuthorizer } from './audit-service.js';

/** Options of {@link keyProofAuthorizer}. */
export interface KeyProofAuthorizerOptions {
  /** True when the key with this RFC 7638 thumbprint may make the call (e.g. a registered source). */
  readonly isAllowed: (jkt: string, ctx: CallContext) => boolean | Promise<boolean>;
  /** Remembers used proof ids (bounded). */
  readonly replayCache: ReplayCache;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Oldest proof accepted, seconds. Default 60. */
  readonly maxAgeSeconds?: number;
}

/**
 * Builds an authorizer that verifies the caller's `baton-proof` and asks `isAllowed`.
 * Fails with the ERR_PROOF_* codes of `verifyProof`, or ERR_PERMISSION_DENIED for a
 * valid proof from an unknown key.
 */
export function keyProofAuthorizer(options: KeyProofAuthorizerOptions): AuditAuthorizer<object> {
  const clock = options.clock ?? systemClock;
  return async (ctx, request) => {
    const raw = rawBytesOf(request);
    if (raw === undefined) throw new TypeError('keyProofAuthorizer: request did not come off the wire');
    const values = ctx.metadata.get(MetadataKey.proof);
    if (values.length > 1) throw new BatonError('ERR_PROOF_INVALID', 'more than one proof');
    const proof = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined;
    const v = verifyProof(proof, {
      htm: 'POST',
      htu: ctx.method,
      nowMs: clock.now(),
      requestHash: sha256B64url(raw),
      replayCache: options.replayCache,
      ...(options.maxAgeSeconds !== undefined ? { maxAgeSeconds: options.maxAgeSeconds } : {}),
    });
    if (!(await options.isAllowed(v.jkt, ctx))) throw new BatonError('ERR_PERMISSION_DENIED', `key ${v.jkt} may not call ${ctx.method}`);
  };
}
