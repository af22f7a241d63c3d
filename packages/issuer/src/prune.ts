import { nowSeconds } from '@baton/core';
import type { IssuerContext } from './issuer-context.js';
import { pruneReferences } from './reference-repo.js';
import { pruneRevocations } from './revocation-repo.js';
import { pruneTokens } from './token-repo.js';

/** What one pruning pass removed. */
export interface PruneResult {
  readonly revocations: number;
  readonly tokens: number;
  readonly references: number;
  /** Retired or revoked kids no longer published. */
  readonly keys: readonly string[];
}

/**
 * Drops state nobody can need any more: revocation entries past their expiry (which
 * already includes the verifiers' leeway), token rows and references whose tokens
 * expired more than the leeway ago, and retired keys whose tokens all expired. Keeps
 * storage and memory flat under churn.
 */
export async function prune(ctx: IssuerContext): Promise<PruneResult> {
  const now = nowSeconds(ctx.clock);
  const cutoff = now - ctx.leewaySeconds;
  const revocations = await pruneRevocations(ctx.db, now);
  const tokens = await pruneTokens(ctx.db, cutoff);
  const references = await pruneReferences(ctx.db, cutoff);
  const keys = await ctx.keyRing.prune();
  return { revocations, tokens, references, keys };
}
