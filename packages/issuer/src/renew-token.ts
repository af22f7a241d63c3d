import { BatonError, coversAll, nowSeconds, randomId, scopeKey, type AccessTokenClaims, type Scope } from '@baton/core';
import { encodeAccessToken } from './access-token.js';
import { renewedRecord } from './audit-records.js';
import { hopHash } from './delegation-claims.js';
import { grantTtl } from './grant-ttl.js';
import { announce, emitAudit, type IssuerContext } from './issuer-context.js';
import { extendReference, putReference } from './reference-repo.js';
import { appendRevocation } from './revocation-repo.js';
import { tokenState } from './token-state.js';
import { insertToken, retireToken, type TokenRecord } from './token-repo.js';

/** What a renewal asks for. */
export interface RenewInput {
  /** Narrower scopes; empty keeps the current ones. */
  readonly scopes: readonly Scope[];
  /** 0 = the policy default. */
  readonly requestedTtl: number;
}

/** A renewed token. */
export interface RenewedToken {
  readonly accessToken: string;
  readonly jti: string;
  readonly expiresAt: number;
  readonly grantedTtlSeconds: number;
  readonly renewalsLeft: number;
  readonly scopes: readonly Scope[];
}

/**
 * Renews a verified token: it must be the issuer's live record (not renewed, released or
 * revoked), under its renewal cap and task deadline; the new token keeps `sub`, binding
 * and audiences, gets equal or narrower scopes, `rnw + 1` and a new `jti`; the old token
 * is ended in the same transaction (single use) with a TOKEN entry, reason `renewed`.
 */
export async function renewToken(ctx: IssuerContext, claims: AccessTokenClaims, kid: string, input: RenewInput): Promise<RenewedToken> {
  const state = await tokenState(ctx.db, claims, kid);
  if (!state.ok) throw new BatonError(state.code, state.detail);
  const old = state.record;
  if (old.rnw >= old.maxRenewals) throw new BatonError('ERR_RENEWAL_LIMIT', `renewed ${old.rnw} of ${old.maxRenewals} times`);

  let scopes: readonly Scope[] = old.scopes;
  if (input.scopes.length > 64) throw new BatonError('ERR_SCOPE_INVALID', 'more than 64 scopes');
  if (input.scopes.length > 0) {
    const check = coversAll(old.scopes, input.scopes);
    if (!check.ok) throw new BatonError('ERR_SCOPE_ESCALATION', `scope ${check.index}: ${check.reason}`);
    scopes = [...new Map(input.scopes.map((s) => [scopeKey(s), s])).values()];
  }

  const now = nowSeconds(ctx.clock);
  const grant = grantTtl(
    {
      requested: input.requestedTtl,
      policyDefault: old.defaultTtl,
      policyMax: old.maxTtl,
      deadline: old.tdl,
      ...(old.capExp !== undefined ? { capExp: old.capExp } : {}),
      now,
    },
    ctx.ttl,
  );
  const jti = randomId(16);
  const draft = {
    jti,
    sub: old.sub,
    iid: old.iid,
    taskId: old.taskId,
    orchId: old.orchId,
    wf: old.wf,
    principal: old.principal,
    scopes,
    aud: old.aud,
    cnfJkt: old.cnfJkt,
    ...(old.cnfX5t ? { cnfX5t: old.cnfX5t } : {}),
    iat: now,
    exp: grant.exp,
    tdl: old.tdl,
    rnw: old.rnw + 1,
    ...(old.delegation ? { delegation: old.delegation } : {}),
    ...(old.reference ? { reference: old.reference } : {}),
  };
  const encoded = encodeAccessToken(ctx.keyRing, ctx.issuer, draft, ctx.referenceThresholdBytes);
  const record: TokenRecord = {
    ...old,
    ...draft,
    kid: encoded.kid,
    status: 'active',
    ...(encoded.reference ? { reference: encoded.reference } : {}),
  };

  const entry = await ctx.db.transaction(async (tx) => {
    // The atomic status change is what makes a token renewable once: a concurrent
    // renewal (or a release/revoke) that got there first leaves nothing to change.
    if (!(await retireToken(tx, old.jti, 'renewed'))) throw new BatonError('ERR_TOKEN_REVOKED', 'token was ended concurrently');
    await insertToken(tx, record, old.delegation ? old.delegation.hops.map(hopHash) : []);
    if (encoded.reference && old.delegation) {
      if (encoded.isNewReference) await putReference(tx, encoded.reference, old.delegation, grant.exp);
      else await extendReference(tx, encoded.reference, grant.exp);
    }
    // The entry covers the old token only, which the UPDATE above just ended, so it is
    // appended directly: scanning for other covered tokens to end (as writeRevocation
    // does) would find none. It lives as long as the old token could be presented.
    return appendRevocation(tx, {
      level: 'token',
      target: old.jti,
      reason: 'renewed',
      createdAt: now,
      expiresAt: Math.max(old.exp, now) + ctx.leewaySeconds,
      // Covers the old token even if the clock stepped back since it was issued.
      notAfterIat: Math.max(now, old.iat),
      actor: `agent:${old.sub}`,
    });
  });
  await announce(ctx, [entry]);
  await ctx.keyRing.noteIssued(encoded.kid, grant.exp);
  await emitAudit(
    ctx,
    renewedRecord(
      {
        sub: old.sub,
        taskId: old.taskId,
        orchId: old.orchId,
        wf: old.wf,
        principal: old.principal,
        jti,
        kid: encoded.kid,
        scope: encoded.claims.scope,
        ttl: grant.ttl,
        exp: grant.exp,
        tokenBytes: Buffer.byteLength(encoded.token),
        ...(encoded.reference ? { reference: encoded.reference } : {}),
        ...(old.delegation ? { delegation: old.delegation } : {}),
      },
      old.jti,
      draft.rnw,
      entry.seq,
    ),
  );
  return {
    accessToken: encoded.token,
    jti,
    expiresAt: grant.exp,
    grantedTtlSeconds: grant.ttl,
    renewalsLeft: old.maxRenewals - draft.rnw,
    scopes,
  };
}
