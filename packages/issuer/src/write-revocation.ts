import { nowSeconds } from '@baton/core';
import type { SqlExecutor } from '@baton/store';
import { revocationRecord } from './audit-records.js';
import { announce, emitAudit, type IssuerContext } from './issuer-context.js';
import type { RevocationLevelName, RevocationReasonName, RevocationRecord } from './revocation-model.js';
import { appendRevocation } from './revocation-repo.js';
import { maxExpCovered, retireCovered, targetCondition, type TokenStatus } from './token-repo.js';

/** A revocation to write; `target` already validated for `level`. */
export interface RevocationSpec {
  readonly level: RevocationLevelName;
  readonly target: string;
  readonly reason: RevocationReasonName;
  /** Who asks (`operator:<id>`, `service:<name>`, `agent:<spiffe id>`, `issuer`). */
  readonly actor: string;
  /** Operator's free text (audit only). */
  readonly note?: string;
  /** A lower bound for the entry's expiry (e.g. a key's known max exp). */
  readonly minCoveredExp?: number;
}

/** The entry written and how many recorded tokens it ended. */
export interface RevocationWrite {
  readonly entry: RevocationRecord;
  readonly tokensAffected: number;
}

function statusFor(reason: RevocationReasonName): Exclude<TokenStatus, 'active'> {
  if (reason === 'released') return 'released';
  if (reason === 'renewed') return 'renewed';
  return 'revoked';
}

/**
 * Inside the caller's transaction: covers every token the target names that was issued
 * up to now, ends their rows, and appends one entry that expires when the last covered
 * token has (plus the verifiers' leeway), after which pruning drops it.
 */
export async function writeRevocation(ctx: IssuerContext, tx: SqlExecutor, spec: RevocationSpec): Promise<RevocationWrite> {
  const now = nowSeconds(ctx.clock);
  const where = targetCondition(spec.level, spec.target);
  const maxExp = Math.max(await maxExpCovered(tx, where, now), spec.minCoveredExp ?? 0, now);
  const tokensAffected = await retireCovered(tx, where, now, statusFor(spec.reason));
  const entry = await appendRevocation(tx, {
    level: spec.level,
    target: spec.target,
    reason: spec.reason,
    createdAt: now,
    expiresAt: maxExp + ctx.leewaySeconds,
    notAfterIat: now,
    actor: spec.actor,
  });
  return { entry, tokensAffected };
}

/**
 * Writes one revocation in its own transaction, then tells subscribers and audits who
 * revoked what and why.
 */
export async function revoke(ctx: IssuerContext, spec: RevocationSpec): Promise<RevocationWrite> {
  const out = await ctx.db.transaction((tx) => writeRevocation(ctx, tx, spec));
  await announce(ctx, [out.entry]);
  await auditRevocation(ctx, spec, out);
  return out;
}

/** The audit record of a revocation (who, what, why). */
export async function auditRevocation(ctx: IssuerContext, spec: RevocationSpec, out: RevocationWrite): Promise<void> {
  await emitAudit(
    ctx,
    revocationRecord({
      level: spec.level,
      target: spec.target,
      reason: spec.reason,
      actor: spec.actor,
      ...(spec.note ? { note: spec.note } : {}),
      sequence: out.entry.seq,
      expiresAt: out.entry.expiresAt,
      tokensAffected: out.tokensAffected,
    }),
  );
}
