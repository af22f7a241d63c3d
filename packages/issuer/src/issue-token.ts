import { BatonError, decodeHop, nowSeconds, randomId, type Scope } from '@baton/core';
import { encodeAccessToken, type EncodedToken } from './access-token.js';
import { issuedRecord } from './audit-records.js';
import { hopHash } from './delegation-claims.js';
import { grantTtl } from './grant-ttl.js';
import { emitAudit, type IssuerContext } from './issuer-context.js';
import type { IssueInput } from './issue-input.js';
import { putReference } from './reference-repo.js';
import { chainRevoked } from './revocation-repo.js';
import { insertToken, type TokenRecord } from './token-repo.js';

/** A freshly issued token. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly jti: string;
  readonly expiresAt: number;
  readonly grantedTtlSeconds: number;
  /** Set when the delegation material went by reference. */
  readonly reference?: string;
  readonly scopes: readonly Scope[];
}

/**
 * Signs and records a token for a checked request: TTL per {@link grantTtl} (the task
 * deadline defaults to `taskLifetimeSeconds` from now when absent), renewals per policy
 * or default (capped by the ceiling), delegated tokens never renewed past their first
 * expiry, by-reference storage when the token would be too large.
 */
export async function issueToken(ctx: IssuerContext, input: IssueInput, caller: string): Promise<IssuedToken> {
  if (input.delegation) {
    const d = input.delegation;
    if (await chainRevoked(ctx.db, d.hops.map(hopHash), d.rootJti, d.actors)) throw new BatonError('ERR_CHAIN_REVOKED', 'a link of the chain is revoked');
  }
  const now = nowSeconds(ctx.clock);
  const deadline = input.deadline > 0 ? input.deadline : now + ctx.ttl.taskLifetimeSeconds;
  // A delegated token never outlives any hop of its chain, whatever TTL was asked for:
  // the caller's "now" may lag ours by a second.
  const capExp = input.delegation ? hopExpiryCap(input.delegation.hops) : undefined;
  const grant = grantTtl(
    { requested: input.requestedTtl, policyDefault: input.policyDefaultTtl, policyMax: input.policyMaxTtl, deadline, now, ...(capExp !== undefined ? { capExp } : {}) },
    ctx.ttl,
  );
  const maxRenewals = Math.min(input.maxRenewals > 0 ? input.maxRenewals : ctx.ttl.maxRenewals, ctx.ttl.maxRenewalsCeiling);
  const jti = randomId(16);
  const draft = {
    jti,
    sub: input.sub,
    iid: input.iid,
    taskId: input.taskId,
    orchId: input.orchId,
    wf: input.wf,
    principal: input.principal,
    scopes: input.scopes,
    aud: input.aud,
    cnfJkt: input.jkt,
    ...(input.x5t ? { cnfX5t: input.x5t } : {}),
    iat: now,
    exp: grant.exp,
    tdl: deadline,
    rnw: 0,
    ...(input.delegation ? { delegation: input.delegation } : {}),
  };
  const encoded: EncodedToken = encodeAccessToken(ctx.keyRing, ctx.issuer, draft, ctx.referenceThresholdBytes);
  const record: TokenRecord = {
    ...draft,
    kid: encoded.kid,
    // A delegated token lives no longer than its hop allowed; renewal cannot extend it.
    ...(input.delegation ? { capExp: grant.exp } : {}),
    maxRenewals,
    defaultTtl: grant.defaultTtl,
    maxTtl: grant.maxTtl,
    status: 'active',
    lineage: jti,
    ...(encoded.reference ? { reference: encoded.reference } : {}),
  };
  await ctx.db.transaction(async (tx) => {
    await insertToken(tx, record, input.delegation ? input.delegation.hops.map(hopHash) : []);
    if (encoded.isNewReference && input.delegation) await putReference(tx, encoded.reference!, input.delegation, grant.exp);
  });
  await ctx.keyRing.noteIssued(encoded.kid, grant.exp);
  await emitAudit(
    ctx,
    issuedRecord(
      {
        sub: input.sub,
        taskId: input.taskId,
        orchId: input.orchId,
        wf: input.wf,
        principal: input.principal,
        jti,
        kid: encoded.kid,
        scope: encoded.claims.scope,
        ttl: grant.ttl,
        exp: grant.exp,
        tokenBytes: Buffer.byteLength(encoded.token),
        ...(encoded.reference ? { reference: encoded.reference } : {}),
        ...(input.delegation ? { delegation: input.delegation } : {}),
      },
      caller,
    ),
  );
  return {
    accessToken: encoded.token,
    jti,
    expiresAt: grant.exp,
    grantedTtlSeconds: grant.ttl,
    ...(encoded.reference ? { reference: encoded.reference } : {}),
    scopes: input.scopes,
  };
}

/** The earliest expiry among well-formed hops (malformed ones are refused by verifiers). */
function hopExpiryCap(hops: readonly string[]): number | undefined {
  let cap: number | undefined;
  for (const hop of hops) {
    try {
      const exp = decodeHop(hop).claims.exp;
      cap = cap === undefined ? exp : Math.min(cap, exp);
    } catch {
      // not a Baton hop: embedded as-is and refused at every verifier
    }
  }
  return cap;
}
