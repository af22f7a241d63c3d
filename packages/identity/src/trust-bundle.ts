/**
 * GetTrustBundle: the authority's public trust material. The JWKS comes from the issuer
 * (GetKeys over gRPC) and is cached briefly; X.509 authorities are the identity CA's
 * certificates (empty when identity runs without a CA).
 */
import { create } from '@bufbuild/protobuf';
import { GetTrustBundleResponseSchema, type GetTrustBundleResponse } from './proto.js';
import type { IdentityContext } from './context.js';
import { fetchIssuerJwks } from './issuer-calls.js';

/** A cached trust bundle source. */
export interface TrustBundleSource {
  get(): Promise<GetTrustBundleResponse>;
}

/** Creates the source; concurrent callers during a refresh share one GetKeys call. */
export function createTrustBundleSource(ctx: IdentityContext): TrustBundleSource {
  let cached: { jwks: string; at: number } | undefined;
  let inflight: Promise<string> | undefined;

  async function jwks(): Promise<string> {
    const now = ctx.clock.now();
    if (cached && now - cached.at < ctx.limits.trustBundleCacheMs && now >= cached.at) return cached.jwks;
    inflight ??= fetchIssuerJwks(ctx)
      .then((j) => {
        cached = { jwks: j, at: ctx.clock.now() };
        return j;
      })
      .finally(() => {
        inflight = undefined;
      });
    return inflight;
  }

  return {
    async get() {
      return create(GetTrustBundleResponseSchema, {
        trustDomain: ctx.trustDomain,
        x509Authorities: ctx.ca?.authorities() ?? [],
        jwtAuthorities: await jwks(),
        refreshHintSeconds: ctx.limits.trustBundleRefreshHintSeconds,
        logAuthorities: ctx.logAuthorities.join('\n'),
      });
    },
  };
}
