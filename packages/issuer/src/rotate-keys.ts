import { rotationRecord } from './audit-records.js';
import { emitAudit, type IssuerContext } from './issuer-context.js';
import type { RevocationReasonName } from './revocation-model.js';
import { revoke, type RevocationWrite } from './write-revocation.js';

/** Outcome of a rotation. */
export interface KeyRotation {
  readonly newKid: string;
  readonly retiredKid: string;
  /** Sequence of the KEY revocation entry (emergency only), else 0. */
  readonly sequence: number;
}

/**
 * Rotates the token-signing key. A normal rotation keeps the old key published until its
 * tokens expired; an emergency rotation revokes it at once: its kid joins `revoked_kids`
 * and a KEY entry (reason `key_compromise`) reaches every guard through the feed.
 */
export async function rotateKeys(ctx: IssuerContext, emergency: boolean, actor: string): Promise<KeyRotation> {
  const r = await ctx.keyRing.rotate({ emergency });
  let sequence = 0;
  if (emergency) {
    const out = await revoke(ctx, { level: 'key', target: r.retiredKid, reason: 'key_compromise', actor, minCoveredExp: r.retiredMaxExp });
    sequence = out.entry.seq;
  }
  await emitAudit(ctx, rotationRecord(r.newKid, r.retiredKid, emergency, actor, sequence));
  return { newKid: r.newKid, retiredKid: r.retiredKid, sequence };
}

/**
 * A KEY-level revocation asked for through Revoke: revoking the active kid is an
 * emergency rotation; revoking a retired kid stops publishing it. Returns the entry's
 * sequence and expiry.
 */
export async function revokeKey(ctx: IssuerContext, kid: string, reason: RevocationReasonName, actor: string, note?: string): Promise<RevocationWrite> {
  if (kid === ctx.keyRing.activeKid) {
    const r = await ctx.keyRing.rotate({ emergency: true });
    const out = await revoke(ctx, { level: 'key', target: kid, reason, actor, minCoveredExp: r.retiredMaxExp, ...(note ? { note } : {}) });
    await emitAudit(ctx, rotationRecord(r.newKid, kid, true, actor, out.entry.seq));
    return out;
  }
  await ctx.keyRing.revoke(kid);
  const known = ctx.keyRing.list().find((k) => k.kid === kid);
  return revoke(ctx, { level: 'key', target: kid, reason, actor, ...(known ? { minCoveredExp: known.maxExp } : {}), ...(note ? { note } : {}) });
}
