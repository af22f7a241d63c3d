/**
 * The background sweep: flags agents that missed their heartbeats (and revokes them when
 * the workflow says so), retries revocations the issuer has not confirmed yet, and prunes
 * expired launch tokens, challenges and agent records so every table stays bounded.
 *
 * Every state change is a conditional UPDATE checked with `changes === 1`, so when
 * several replicas sweep the same database each event is reported exactly once.
 */
import { isBatonError } from '@baton/core';
import { clearRevokePending } from './agents.js';
import { emit, type IdentityContext } from './context.js';
import { revokeAgentAtIssuer } from './issuer-calls.js';

/** What one sweep did. */
export interface SweepResult {
  /** Agents newly flagged for missed heartbeats. */
  readonly flagged: number;
  /** Agents whose revocation the issuer accepted during this sweep. */
  readonly revoked: number;
  /** Rows pruned across all tables. */
  readonly pruned: number;
}

const BATCH = 500;

interface QuietRow {
  spiffe_id: string;
  workflow_id: string;
  orchestration_id: string;
  task_id: string;
  principal: string;
  last_seen_at: number;
  heartbeat_interval: number;
  misses_before_flag: number;
  revoke_on_flag: number;
}

async function flagQuietAgents(ctx: IdentityContext, now: number): Promise<number> {
  const rows = await ctx.db.all<QuietRow>(
    `SELECT spiffe_id, workflow_id, orchestration_id, task_id, principal, last_seen_at, heartbeat_interval, misses_before_flag, revoke_on_flag
       FROM identity_agents
      WHERE status = 'active' AND task_deadline > ? AND last_seen_at + heartbeat_interval * misses_before_flag * 1000 < ?
      LIMIT ${BATCH}`,
    [now, now],
  );
  let flagged = 0;
  for (const r of rows) {
    const revoke = Number(r.revoke_on_flag) === 1;
    // Conditional on the last_seen_at we read: a heartbeat in between wins.
    const u = await ctx.db.run(
      "UPDATE identity_agents SET status = ?, flagged_at = ?, revoke_pending = ? WHERE spiffe_id = ? AND status = 'active' AND last_seen_at = ?",
      [revoke ? 'revoked' : 'flagged', now, revoke ? 1 : 0, r.spiffe_id, r.last_seen_at],
    );
    if (u.changes !== 1) continue;
    flagged++;
    const misses = Math.floor((now - Number(r.last_seen_at)) / (Number(r.heartbeat_interval) * 1000));
    ctx.meter.heartbeatMissed(misses);
    await emit(ctx, {
      type: 'heartbeat.missed',
      outcome: revoke ? 'deny' : 'info',
      agent: r.spiffe_id,
      workflow: r.workflow_id,
      orchestration: r.orchestration_id,
      task: r.task_id,
      principal: r.principal,
      ...(revoke ? { reasonCode: 'ERR_TOKEN_REVOKED' } : {}),
      reasonDetail: `${misses} heartbeats missed (interval ${r.heartbeat_interval} s, flag after ${r.misses_before_flag})`,
      attributes: { misses: String(misses), revoked: String(revoke) },
    });
  }
  return flagged;
}

async function retryRevocations(ctx: IdentityContext, now: number): Promise<number> {
  const rows = await ctx.db.all<{ spiffe_id: string; status: string; task_deadline: number }>(
    `SELECT spiffe_id, status, task_deadline FROM identity_agents WHERE revoke_pending = 1 LIMIT ${BATCH}`,
  );
  let revoked = 0;
  for (const r of rows) {
    // Past the deadline every token of the instance has expired: nothing left to revoke.
    if (Number(r.task_deadline) <= now) {
      await clearRevokePending(ctx.db, r.spiffe_id);
      continue;
    }
    try {
      await revokeAgentAtIssuer(ctx, r.spiffe_id, r.status === 'superseded' ? 'SUPERSEDED' : 'HEARTBEAT');
      revoked++;
    } catch (err) {
      // Issuer unreachable: leave it pending for the next sweep. Anything else is a bug.
      if (!isBatonError(err)) throw err;
    }
  }
  return revoked;
}

async function prune(ctx: IdentityContext, now: number): Promise<number> {
  const keep = ctx.limits.launchTokenRetentionMs;
  let n = (await ctx.db.run('DELETE FROM identity_launch_tokens WHERE expires_at <= ?', [now - keep])).changes;
  n += await ctx.challenges.prune(now, keep);
  const agentsBefore = now - ctx.limits.agentRetentionMs;
  n += (await ctx.db.run('DELETE FROM identity_agents WHERE task_deadline <= ? AND revoke_pending = 0', [agentsBefore])).changes;
  n += (await ctx.db.run('DELETE FROM identity_discovery WHERE spiffe_id NOT IN (SELECT spiffe_id FROM identity_agents)')).changes;
  return n;
}

/** Runs one sweep at the context clock's current time. */
export async function sweep(ctx: IdentityContext): Promise<SweepResult> {
  const now = ctx.clock.now();
  const flagged = await flagQuietAgents(ctx, now);
  const revoked = await retryRevocations(ctx, now);
  const pruned = await prune(ctx, now);
  return { flagged, revoked, pruned };
}
