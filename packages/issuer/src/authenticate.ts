import { BatonError, ReplayCache, type AccessTokenClaims, type Clock } from '@baton/core';
import { authenticateCall, createGuard, singleMetadataValue, verifyKeyProof, type Decision, type DecisionInfo, type Guard, type KeySource } from '@baton/guard';
import { MetadataKey, type CallContext } from '@baton/proto';
import type { KeyRing } from './key-ring.js';
import type { BatonServiceName } from './options.js';
import { ringRefresher } from './ring-refresh.js';

/** Who called, once authenticated. */
export type Caller =
  | { readonly kind: 'operator'; readonly id: string; readonly jkt: string }
  | { readonly kind: 'service'; readonly name: BatonServiceName; readonly jkt: string };

/** `operator:<id>` / `service:<name>`: the actor recorded in revocations and audit. */
export function actorOf(caller: Caller): string {
  return caller.kind === 'operator' ? `operator:${caller.id}` : `service:${caller.name}`;
}

/**
 * The ring as a guard key source: revoked kids answer `'revoked'`, retired ones still
 * verify; a ring shared by replicas reloads on an unknown kid (another replica rotated).
 */
export function keySourceOf(ring: KeyRing): KeySource {
  const refresh = ringRefresher(ring);
  return {
    key(kid: string) {
      if (ring.status(kid) === 'revoked') return 'revoked';
      return ring.publicKey(kid);
    },
    ...(typeof ring.refresh === 'function' ? { refresh } : {}),
  };
}

/** Options of {@link createAuthenticator}. */
export interface AuthOptions {
  readonly keyRing: KeyRing;
  readonly issuer: string;
  readonly clock: Clock;
  readonly leewaySeconds: number;
  readonly operators: ReadonlyMap<string, string>;
  readonly services: ReadonlyMap<string, BatonServiceName>;
  /** Sees every agent-credential decision (anomaly feed). */
  readonly onAgentDecision?: (decision: Decision, info: DecisionInfo) => void;
}

/** Authentication of the issuer's callers (services.md "Authentication"). */
export interface Authenticator {
  /**
   * A key-holder call (`baton-proof` over the request bytes): the proof must verify, then
   * its key must be a known operator or Baton service (ERR_PERMISSION_DENIED otherwise).
   * A call that carries agent credentials instead is ERR_PERMISSION_DENIED: agents only
   * Renew and Release.
   */
  keyHolder(request: object, ctx: CallContext): Promise<Caller>;
  /** An agent call (`authorization: DPoP <token>` + `dpop`), verified by the guard pipeline. */
  agent(ctx: CallContext): Promise<{ claims: AccessTokenClaims; kid: string }>;
}

/** Builds the issuer's authenticator; its guard trusts exactly the issuer's own key ring. */
export function createAuthenticator(o: AuthOptions): Authenticator {
  const keys = keySourceOf(o.keyRing);
  // Key-holder proofs; the guard keeps its own cache for agent proofs.
  const replayCache = new ReplayCache();
  const guard: Guard = createGuard({
    audience: o.issuer,
    issuer: o.issuer,
    keys,
    clock: o.clock,
    leewaySeconds: o.leewaySeconds,
    // The issuer signed the token and holds its record (hops included): the chain was
    // verified when it was issued, and its revocation state is checked from the store.
    chain: { verify: ({ claims }) => ({ depth: claims.del?.d ?? 1, agents: [] }) },
    // Renewal needs the live state of the token, so never answer from a verified-token cache.
    tokenCacheSize: 0,
    ...(o.onAgentDecision ? { onDecision: o.onAgentDecision } : {}),
  });

  return {
    async keyHolder(request, ctx) {
      if (singleMetadataValue(ctx.metadata, MetadataKey.proof) === undefined && singleMetadataValue(ctx.metadata, MetadataKey.authorization) !== undefined) {
        throw new BatonError('ERR_PERMISSION_DENIED', 'agent credentials on an operator/service method');
      }
      const { jkt } = verifyKeyProof(ctx, request, { replayCache, clock: o.clock });
      const operator = o.operators.get(jkt);
      if (operator !== undefined) return { kind: 'operator', id: operator, jkt };
      const service = o.services.get(jkt);
      if (service !== undefined) return { kind: 'service', name: service, jkt };
      throw new BatonError('ERR_PERMISSION_DENIED', `key ${jkt} is neither an operator nor a Baton service`);
    },
    async agent(ctx) {
      const decision = await authenticateCall(guard, ctx);
      return { claims: decision.claims, kid: decision.kid };
    },
  };
}
