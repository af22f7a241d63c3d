/**
 * What a delegating agent signs: the claims of the next hop from its current token, and
 * the root task a chain names.
 */
import { sha256B64url } from './hash.js';
import { encodeHopScopes, type HopClaims } from './hop.js';
import type { Scope } from './scope.js';
import { parseAgentSpiffeId } from './spiffe.js';
import { scopesOfClaims, type AccessTokenClaims } from './token.js';

/** `<orchestration>/<task>` of an agent SPIFFE id (the `tsk` a chain rooted there carries). */
export function rootTaskOf(agentSpiffeId: string): string {
  const id = parseAgentSpiffeId(agentSpiffeId);
  return `${id.orchestration}/${id.task}`;
}

/** What {@link nextHopClaims} needs: the delegator's token and key, and what it grants to whom. */
export interface NextHopInput {
  /** The delegator's current access token (compact). */
  readonly token: string;
  /** Its claims. */
  readonly claims: AccessTokenClaims;
  /** The delegator's own public key (JWK `x`): the key its token is bound to. */
  readonly holderKey: string;
  /** Delegatee SPIFFE id. */
  readonly to: string;
  /** Delegatee public key (JWK `x`). */
  readonly toKey: string;
  readonly scopes: readonly Scope[];
  /** Expiry, NumericDate seconds. */
  readonly exp: number;
}

/**
 * The claims of the hop the holder of `token` signs to delegate: `prv` is the SHA-256 of
 * the token when it is a root token, else its chain hash (`del.ch`); `dep` is one more
 * than the token's depth; principal and root task carry over; a root token's facts go
 * into `rt`. Attenuation, expiry and policy are checked by the delegation service.
 *
 * @example signHop(nextHopClaims({ token, claims, holderKey: me.publicJwk.x, to, toKey, scopes, exp }), me)
 */
export function nextHopClaims(i: NextHopInput): HopClaims {
  const { claims } = i;
  const del = claims.del;
  let rootHolder = claims.sub;
  for (let a = claims.act; a !== undefined; a = a.act) rootHolder = a.sub;
  const base = {
    iss: claims.sub,
    sub: i.to,
    k: i.toKey,
    scp: encodeHopScopes(i.scopes),
    exp: i.exp,
    pri: claims.principal,
    tsk: rootTaskOf(del === undefined ? claims.sub : rootHolder),
  };
  if (del !== undefined) return { ...base, prv: del.ch, dep: del.d + 1 };
  return {
    ...base,
    prv: sha256B64url(i.token),
    dep: 1,
    rt: { jti: claims.jti, k: i.holderKey, scp: encodeHopScopes(scopesOfClaims(claims)), exp: claims.exp },
  };
}
