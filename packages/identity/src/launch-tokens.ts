/**
 * CreateLaunchToken: an orchestrator mints a one-time token an agent presents at
 * Register. At most 30 s, 256 random bits, stored only as a hash, bound to the workflow,
 * task, orchestration, principal, scope ceiling, task deadline and audiences.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, assertId, coversAll, type Scope } from '@baton/core';
import { CreateLaunchTokenResponseSchema, type CreateLaunchTokenRequest, type CreateLaunchTokenResponse } from './proto.js';
import type { SqlExecutor } from '@baton/store';
import { emit, type IdentityContext } from './context.js';
import { launchTokenHash, newLaunchToken } from './launch-token-format.js';
import { IDENTITY_DEFAULTS } from './options.js';
import { orchestratorMayUse } from './orchestrators.js';
import { assertAudience, scopesFromProto } from './policy.js';
import { findWorkflow } from './workflows.js';

/** A launch token as stored (by hash). */
export interface LaunchTokenRecord {
  readonly hash: string;
  readonly workflowId: string;
  readonly orchestrationId: string;
  readonly taskId: string;
  readonly principal: string;
  readonly scopes: readonly Scope[];
  readonly audiences: readonly string[];
  /** Unix ms (a whole second). */
  readonly taskDeadline: number;
  readonly expiresAt: number;
  readonly usedAt: number | null;
}

interface Row {
  hash: string;
  workflow_id: string;
  orchestration_id: string;
  task_id: string;
  principal: string;
  scopes: string;
  audiences: string;
  task_deadline: number;
  expires_at: number;
  used_at: number | null;
}

/** Principals look like `user:vp@acme.example` or `service:billing`. */
const PRINCIPAL_RE = /^[A-Za-z0-9][A-Za-z0-9._:@+/-]{0,255}$/;
/** The issuer binds at most 15 resource audiences into a token. */
const MAX_AUDIENCES = 15;

/** The launch token with this hash, or undefined. */
export async function findLaunchToken(db: SqlExecutor, hash: string): Promise<LaunchTokenRecord | undefined> {
  const r = await db.get<Row>(
    'SELECT hash, workflow_id, orchestration_id, task_id, principal, scopes, audiences, task_deadline, expires_at, used_at FROM identity_launch_tokens WHERE hash = ?',
    [hash],
  );
  if (!r) return undefined;
  return {
    hash: r.hash,
    workflowId: r.workflow_id,
    orchestrationId: r.orchestration_id,
    taskId: r.task_id,
    principal: r.principal,
    scopes: JSON.parse(r.scopes) as Scope[],
    audiences: JSON.parse(r.audiences) as string[],
    taskDeadline: Number(r.task_deadline),
    expiresAt: Number(r.expires_at),
    usedAt: r.used_at === null ? null : Number(r.used_at),
  };
}

/**
 * Marks the launch token used. One atomic statement: of any number of concurrent
 * callers (on any replica) exactly one sees `true`.
 */
export async function consumeLaunchToken(tx: SqlExecutor, hash: string, nowMs: number): Promise<boolean> {
  const r = await tx.run('UPDATE identity_launch_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND expires_at > ?', [nowMs, hash, nowMs]);
  return r.changes === 1;
}

function ttlWithin(requested: number, max: number): number {
  return requested === 0 ? max : Math.min(requested, max);
}

/** CreateLaunchToken, for orchestrator `orchestrationId` (already authenticated). */
export async function createLaunchToken(ctx: IdentityContext, orchestrationId: string, req: CreateLaunchTokenRequest): Promise<CreateLaunchTokenResponse> {
  const workflowId = assertId('workflow', req.workflowId);
  const taskId = assertId('task', req.taskId);
  if (typeof req.principal !== 'string' || !PRINCIPAL_RE.test(req.principal)) throw new BatonError('ERR_ID_INVALID', 'malformed principal');
  const requested = scopesFromProto(req.scopes, 'ERR_SCOPE_INVALID');
  if (req.audiences.length > MAX_AUDIENCES) throw new BatonError('ERR_INVALID_ARGUMENT', 'too many audiences');
  const audiences = [...new Set(req.audiences.map(assertAudience))].sort();

  // Permission before existence, so an orchestrator cannot probe other workflows.
  if (!(await orchestratorMayUse(ctx.db, orchestrationId, workflowId))) {
    throw new BatonError('ERR_PERMISSION_DENIED', `orchestrator ${orchestrationId} may not start tasks in ${workflowId}`);
  }
  const wf = await findWorkflow(ctx.db, workflowId);
  if (!wf) throw new BatonError('ERR_WORKFLOW_NOT_FOUND', `workflow ${workflowId}`);
  const policy = wf.policy;

  const scopes = requested.length > 0 ? requested : [...policy.scopeCeiling];
  const cover = coversAll(policy.scopeCeiling, scopes);
  if (!cover.ok) throw new BatonError('ERR_SCOPE_ESCALATION', `scope ${cover.index}: ${cover.reason}`);
  if (policy.audiences.length > 0) {
    const outside = audiences.find((a) => !policy.audiences.includes(a));
    if (outside !== undefined) throw new BatonError('ERR_SCOPE_ESCALATION', `audience ${outside} not allowed by the workflow`);
  }
  // Without audiences a token could be used nowhere; refuse now rather than at Register.
  const boundAudiences = audiences.length > 0 ? audiences : [...policy.audiences];
  if (boundAudiences.length === 0 || boundAudiences.length > MAX_AUDIENCES) {
    throw new BatonError('ERR_INVALID_ARGUMENT', `1..${MAX_AUDIENCES} audiences required (from the request or the workflow)`);
  }

  const grantedTtl = ttlWithin(req.ttlSeconds, IDENTITY_DEFAULTS.launchTokenTtlSeconds);
  const taskTtl = ttlWithin(req.taskTtlSeconds, policy.maxTaskTtlSeconds);
  const now = ctx.clock.now();
  const nowS = Math.floor(now / 1000);
  const expiresAt = now + grantedTtl * 1000;
  const taskDeadlineS = nowS + taskTtl;

  const token = newLaunchToken();
  await ctx.db.run(
    `INSERT INTO identity_launch_tokens
      (hash, workflow_id, orchestration_id, task_id, principal, scopes, audiences, task_deadline, created_at, expires_at, used_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`,
    [launchTokenHash(token), workflowId, orchestrationId, taskId, req.principal, JSON.stringify(scopes), JSON.stringify(boundAudiences), taskDeadlineS * 1000, now, expiresAt],
  );
  await emit(ctx, {
    type: 'launch_token.created',
    outcome: 'info',
    workflow: workflowId,
    orchestration: orchestrationId,
    task: taskId,
    principal: req.principal,
    attributes: { ttl_seconds: String(grantedTtl), task_deadline: String(taskDeadlineS) },
  });
  return create(CreateLaunchTokenResponseSchema, {
    launchToken: token,
    expiresAt: BigInt(Math.floor(expiresAt / 1000)),
    taskDeadline: BigInt(taskDeadlineS),
    grantedTtlSeconds: grantedTtl,
  });
}
