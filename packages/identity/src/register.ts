/**
 * Register: launch token + agent public key + signed challenge → SPIFFE id and the first
 * access token.
 *
 * Order (STYLE.md §5): structure of everything; then state lookups (launch token, nonce)
 * without side effects; then the signature; then scope attenuation; and only when all of
 * that holds, the launch token and the nonce are consumed together in one transaction
 * by single atomic statements. A lost race there is a replay.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, agentSpiffeId, coversAll, isBatonError, randomId, registrationMessage, verifyBytes } from '@baton/core';
import { RegisterResponseSchema, TaskState, scopeToProto, type RegisterRequest, type RegisterResponse } from './proto.js';
import { insertAgent, setAgentStatus, supersedeLive, type AgentRecord } from './agents.js';
import { emit, type IdentityContext } from './context.js';
import { issueAccessToken, revokeAgentAtIssuer } from './issuer-calls.js';
import { consumeLaunchToken, findLaunchToken, type LaunchTokenRecord } from './launch-tokens.js';
import { parseRegisterRequest, type RegisterInput } from './register-input.js';
import { issueAgentSvid } from './svids.js';
import { findWorkflow } from './workflows.js';

async function reportReplay(ctx: IdentityContext, lt: LaunchTokenRecord, detail: string): Promise<never> {
  ctx.meter.launchTokenReplay();
  await emit(ctx, {
    type: 'launch_token.replayed',
    outcome: 'deny',
    workflow: lt.workflowId,
    orchestration: lt.orchestrationId,
    task: lt.taskId,
    principal: lt.principal,
    reasonCode: 'ERR_LAUNCH_TOKEN_REPLAYED',
    reasonDetail: detail,
  });
  throw new BatonError('ERR_LAUNCH_TOKEN_REPLAYED', detail);
}

/** Checks launch token and nonce state (no side effects) and the signature. */
async function checkState(ctx: IdentityContext, input: RegisterInput, now: number): Promise<LaunchTokenRecord> {
  const lt = await findLaunchToken(ctx.db, input.launchTokenHash);
  if (!lt) throw new BatonError('ERR_LAUNCH_TOKEN_INVALID', 'unknown launch token');
  if (lt.usedAt !== null) await reportReplay(ctx, lt, 'launch token already used');
  if (lt.expiresAt <= now) throw new BatonError('ERR_LAUNCH_TOKEN_EXPIRED', 'launch token expired');

  const nonce = await ctx.challenges.find(input.nonceHash);
  if (!nonce) throw new BatonError('ERR_NONCE_INVALID', 'unknown challenge');
  if (nonce.usedAt !== null) throw new BatonError('ERR_NONCE_REPLAYED', 'challenge already used');
  if (nonce.expiresAt <= now) throw new BatonError('ERR_NONCE_EXPIRED', 'challenge expired');

  const message = registrationMessage(input.nonce, input.launchToken, input.rawPublicKey);
  if (!verifyBytes(message, input.signature, input.publicKey)) {
    throw new BatonError('ERR_REGISTRATION_SIGNATURE_INVALID', 'signature does not verify under the presented key');
  }
  return lt;
}

/** Register handler. */
export async function register(ctx: IdentityContext, req: RegisterRequest): Promise<RegisterResponse> {
  const input = parseRegisterRequest(req);
  const now = ctx.clock.now();
  const lt = await checkState(ctx, input, now);

  const scopes = input.requestedScopes.length > 0 ? input.requestedScopes : lt.scopes;
  const cover = coversAll(lt.scopes, scopes);
  if (!cover.ok) throw new BatonError('ERR_SCOPE_ESCALATION', `requested scope ${cover.index}: ${cover.reason}`);
  const wf = await findWorkflow(ctx.db, lt.workflowId);
  if (!wf) throw new BatonError('ERR_WORKFLOW_NOT_FOUND', `workflow ${lt.workflowId}`);
  if (lt.taskDeadline <= now) throw new BatonError('ERR_TASK_DEADLINE_PASSED', 'task deadline passed before registration');

  const instanceId = randomId(16);
  const spiffeId = agentSpiffeId(ctx.trustDomain, lt.orchestrationId, lt.taskId, instanceId);
  const hb = wf.policy.heartbeat;
  const agent: AgentRecord = {
    spiffeId,
    instanceId,
    workflowId: lt.workflowId,
    orchestrationId: lt.orchestrationId,
    taskId: lt.taskId,
    name: input.name,
    principal: lt.principal,
    jkt: input.jkt,
    publicKey: input.rawPublicKey.toString('base64url'),
    status: 'active',
    taskDeadline: lt.taskDeadline,
    heartbeatIntervalSeconds: hb.intervalSeconds,
    missesBeforeFlag: hb.missesBeforeFlag,
    revokeOnFlag: hb.revokeOnFlag,
    registeredAt: now,
    lastSeenAt: now,
    taskState: TaskState.ACTIVE,
  };

  let superseded: string[];
  try {
    superseded = await ctx.db.transaction(async (tx) => {
      // Serialise registrations for one (orchestration, task, name) across replicas, so
      // two of them cannot both miss each other's instance.
      if (tx.dialect === 'postgres') {
        await tx.run('SELECT pg_advisory_xact_lock(hashtext(?))', [`identity:${lt.orchestrationId}/${lt.taskId}/${input.name}`]);
      }
      if (!(await consumeLaunchToken(tx, lt.hash, now))) throw new BatonError('ERR_LAUNCH_TOKEN_REPLAYED', 'lost the race for the launch token');
      // Throwing here rolls the launch-token update back with it.
      if (!(await ctx.challenges.consume(tx, input.nonceHash, now))) throw new BatonError('ERR_NONCE_REPLAYED', 'lost the race for the challenge');
      const old = await supersedeLive(tx, lt.orchestrationId, lt.taskId, input.name, spiffeId);
      await insertAgent(tx, agent);
      return old;
    });
  } catch (err) {
    if (isBatonError(err) && err.code === 'ERR_LAUNCH_TOKEN_REPLAYED') await reportReplay(ctx, lt, err.detail);
    throw err;
  }

  const common = { workflow: lt.workflowId, orchestration: lt.orchestrationId, task: lt.taskId, principal: lt.principal } as const;
  await emit(ctx, { type: 'launch_token.consumed', outcome: 'allow', agent: spiffeId, ...common });
  for (const old of superseded) await emit(ctx, { type: 'agent.superseded', outcome: 'info', agent: old, attributes: { superseded_by: spiffeId }, ...common });

  let issued: Awaited<ReturnType<typeof issueAccessToken>>;
  let svid: Awaited<ReturnType<typeof issueAgentSvid>>;
  try {
    // The predecessor's tokens die before the successor gets one. A failure here leaves
    // the revocation pending for the sweeper and fails this registration closed.
    for (const old of superseded) await revokeAgentAtIssuer(ctx, old, 'SUPERSEDED');
    // The SVID certifies the key just proven; made before the token so a CA failure leaves no token behind.
    svid = await issueAgentSvid(ctx, agent, 'registration');
    issued = await issueAccessToken(ctx, {
      subject: spiffeId,
      instanceId,
      workflowId: lt.workflowId,
      orchestrationId: lt.orchestrationId,
      taskId: lt.taskId,
      principal: lt.principal,
      scopes,
      audiences: lt.audiences,
      keyThumbprint: input.jkt,
      requestedTtlSeconds: input.requestedTtlSeconds,
      defaultTtlSeconds: wf.policy.defaultTokenTtlSeconds,
      maxTtlSeconds: wf.policy.maxTokenTtlSeconds,
      taskDeadlineSeconds: Math.floor(lt.taskDeadline / 1000),
      maxRenewals: wf.policy.maxRenewals,
    });
  } catch (err) {
    await setAgentStatus(ctx.db, spiffeId, 'failed').catch(() => undefined);
    throw err;
  }

  await emit(ctx, {
    type: 'agent.registered',
    outcome: 'allow',
    agent: spiffeId,
    ...common,
    attributes: { granted_ttl_seconds: String(issued.grantedTtlSeconds), ...(superseded.length > 0 ? { superseded: superseded.join(' ') } : {}) },
  });
  return create(RegisterResponseSchema, {
    spiffeId,
    instanceId,
    accessToken: issued.accessToken,
    tokenExpiresAt: issued.expiresAt,
    grantedTtlSeconds: issued.grantedTtlSeconds,
    scopes: scopes.map((s) => scopeToProto(s)),
    taskDeadline: BigInt(Math.floor(lt.taskDeadline / 1000)),
    heartbeatIntervalSeconds: hb.intervalSeconds,
    supersededSpiffeId: superseded[0] ?? '',
    ...(svid ? { svid } : {}),
  });
}
