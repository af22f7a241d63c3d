import { ACCESS_TOKEN_TYP, BatonError, formatScope, randomId, type AccessTokenClaims, type Cnf, type Scope } from '@baton/core';
import { actClaim, delegationClaim, type DelegationMaterial } from './delegation-claims.js';
import type { KeyRing } from './key-ring.js';

/** Everything a token says, before signing. Times are seconds. */
export interface TokenDraft {
  readonly jti: string;
  readonly sub: string;
  readonly iid: string;
  readonly taskId: string;
  readonly orchId: string;
  readonly wf: string;
  readonly principal: string;
  readonly scopes: readonly Scope[];
  readonly aud: readonly string[];
  readonly cnfJkt: string;
  readonly cnfX5t?: string;
  readonly iat: number;
  readonly exp: number;
  readonly tdl: number;
  readonly rnw: number;
  readonly delegation?: DelegationMaterial;
  /** An existing reference to reuse (renewal of a by-reference token). */
  readonly reference?: string;
}

/** A signed token and how it was encoded. */
export interface EncodedToken {
  readonly token: string;
  readonly kid: string;
  readonly claims: AccessTokenClaims;
  /** Set when the delegation material went by reference; new when `isNewReference`. */
  readonly reference?: string;
  readonly isNewReference: boolean;
}

/** The claims of a draft (RFC 9068 shape plus Baton's task claims). */
export function claimsOf(issuer: string, d: TokenDraft, reference?: string): AccessTokenClaims {
  const cnf: Cnf = { ...(d.cnfJkt ? { jkt: d.cnfJkt } : {}), ...(d.cnfX5t ? { 'x5t#S256': d.cnfX5t } : {}) };
  const structured = d.scopes.some((s) => s.constraints !== undefined && Object.keys(s.constraints).length > 0);
  const claims: AccessTokenClaims = {
    iss: issuer,
    sub: d.sub,
    aud: [...d.aud],
    exp: d.exp,
    iat: d.iat,
    nbf: d.iat,
    jti: d.jti,
    scope: [...new Set(d.scopes.map(formatScope))].join(' '),
    ...(structured ? { scopes: d.scopes.map((s) => ({ ...s })) } : {}),
    task_id: d.taskId,
    orch_id: d.orchId,
    wf: d.wf,
    principal: d.principal,
    iid: d.iid,
    tdl: d.tdl,
    rnw: d.rnw,
    cnf,
  };
  if (d.delegation) {
    claims.del = delegationClaim(d.delegation, reference, { sub: d.sub, principal: d.principal, scopes: d.scopes });
    const act = actClaim(d.delegation);
    if (act) claims.act = act;
  }
  return claims;
}

/**
 * Signs a draft with the ring's active key (`typ: at+jwt`, `kid`). When the encoded token
 * would exceed `thresholdBytes` and it carries delegation hops, the hops go by reference
 * (`del.ref`); a token still too large is ERR_TOKEN_TOO_LARGE.
 */
export function encodeAccessToken(ring: KeyRing, issuer: string, d: TokenDraft, thresholdBytes: number): EncodedToken {
  const sign = (reference?: string) => {
    const claims = claimsOf(issuer, d, reference);
    const { token, kid } = ring.sign({ typ: ACCESS_TOKEN_TYP }, claims as unknown as Record<string, unknown>);
    return { token, kid, claims };
  };
  let reference = d.delegation ? d.reference : undefined;
  let isNewReference = false;
  let out = sign(reference);
  if (Buffer.byteLength(out.token) > thresholdBytes && d.delegation && reference === undefined) {
    reference = randomId(16);
    isNewReference = true;
    out = sign(reference);
  }
  if (Buffer.byteLength(out.token) > thresholdBytes) {
    throw new BatonError('ERR_TOKEN_TOO_LARGE', `encoded token is ${Buffer.byteLength(out.token)} bytes`);
  }
  return { ...out, ...(reference !== undefined ? { reference } : {}), isNewReference };
}
