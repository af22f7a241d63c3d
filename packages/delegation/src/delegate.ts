/**
 * Delegate: a delegator's signed hop becomes a countersigned child token for the
 * delegatee. Order: who is calling (delegator.ts), then the hop against the delegator's
 * own token (position, link, signer, signature), then what is granted to whom (no self
 * delegation or cycle, attenuation, expiry), then the delegatee and the workflow's
 * policy (identity, over gRPC), then the issuer signs the child token (over gRPC), and
 * the hop is recorded for audit and HOP revocation.
 */
import {
  BatonError,
  chainStep,
  coversAll,
  decodeHop,
  formatScope,
  isBatonError,
  matchSpiffePattern,
  nowSeconds,
  parseAgentSpiffeId,
  rootTaskOf,
  sha256B64url,
  thumbprintOfX,
  verifyJws,
  importPublicJwk,
  type ErrorCode,
  type Hop,
} from '@baton/core';
import { scopeToProto } from '@baton/proto';
import { GetAgentRequestSchema, IdentityService, type GetAgentResponse } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssueRequestSchema, IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { DelegateResponseSchema } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import type { Delegator } from './delegator.js';
import { completeHop, releaseHop, reserveHop } from './hop-repo.js';
import { emit, withServiceProof, type DelegationContext } from './service-context.js';
import { MAX_DELEGATION_DEPTH, walkChain } from './walk-chain.js';

function fail(code: ErrorCode, detail: string): never {
  throw new BatonError(code, detail);
}

/** What the hop must say, given the delegator's token. */
interface Expected {
  readonly depth: number;
  readonly prv: string;
  readonly task: string;
  /** The key the hop must be signed with (JWK `x`); for a root token, the hop's own `rt.k`. */
  readonly signerKey: string;
  /** Agents and keys already in the chain (no cycles). */
  readonly path: readonly string[];
  readonly keys: ReadonlySet<string>;
  readonly hops: readonly Hop[];
  readonly rootTokenHash: string;
  readonly rootJti: string;
}

/** The hop against the delegator's own token: position, link, root facts, signer, signature. */
function checkHopAgainstDelegator(d: Delegator, hop: Hop): Expected {
  const { claims } = d;
  const c = hop.claims;
  const n = d.chain?.depth ?? 0;
  const at = `hop ${c.dep}`;
  if (c.dep !== n + 1) fail('ERR_CHAIN_LINK_BROKEN', `${at} claims depth ${c.dep}, but the delegator holds a depth-${n} token`);
  const prv = d.chain === undefined ? sha256B64url(d.token) : d.chain.chainHash;
  if (c.prv !== prv) fail('ERR_CHAIN_LINK_BROKEN', `${at} does not link to the delegator's token`);
  if (c.iss !== claims.sub) fail('ERR_CHAIN_LINK_BROKEN', `${at} names delegator ${c.iss}, but the caller is ${claims.sub}`);
  if (c.pri !== claims.principal) fail('ERR_CHAIN_INVALID', `${at} names principal ${c.pri}, not ${claims.principal}`);
  const task = d.chain?.task ?? rootTaskOf(claims.sub);
  if (c.tsk !== task) fail('ERR_CHAIN_INVALID', `${at} names task ${c.tsk}, not ${task}`);

  let signerKey: string;
  if (d.chain === undefined) {
    const rt = c.rt!;
    if (rt.jti !== claims.jti) fail('ERR_CHAIN_LINK_BROKEN', `${at} names root token ${rt.jti}, not the caller's ${claims.jti}`);
    if (claims.cnf.jkt !== thumbprintOfX(rt.k)) fail('ERR_CHAIN_KEY_MISMATCH', `${at} names a root key other than the one the caller's token is bound to`);
    if (rt.exp > claims.exp) fail('ERR_DELEGATION_EXPIRY_EXCEEDED', `${at} claims the root token expires at ${rt.exp}, not ${claims.exp}`);
    const root = coversAll(d.scopes, hop.rootScopes!);
    if (!root.ok) fail('ERR_SCOPE_ESCALATION', `${at} claims root scopes the caller does not hold: ${root.reason}`);
    signerKey = rt.k;
  } else {
    signerKey = d.chain.hops[d.chain.hops.length - 1]!.claims.k;
  }
  if (hop.kid !== thumbprintOfX(signerKey)) fail('ERR_CHAIN_KEY_MISMATCH', `${at} signed by a key other than the delegator's`);
  let key;
  try {
    key = importPublicJwk({ kty: 'OKP', crv: 'Ed25519', x: signerKey });
  } catch {
    return fail('ERR_CHAIN_INVALID', `${at} names an invalid delegator key`);
  }
  if (!verifyJws(hop, key)) fail('ERR_CHAIN_SIGNATURE_INVALID', `${at} signature does not verify under the delegator's key`);

  const path = d.chain === undefined ? [claims.sub] : [...d.chain.agents, claims.sub];
  const keys = new Set(d.chain === undefined ? [signerKey] : [d.chain.hops[0]!.claims.rt!.k, ...d.chain.hops.map((h) => h.claims.k)]);
  return {
    depth: n + 1,
    prv,
    task,
    signerKey,
    path,
    keys,
    hops: d.chain?.hops ?? [],
    rootTokenHash: d.chain?.rootTokenHash ?? prv,
    rootJti: d.chain?.rootJti ?? claims.jti,
  };
}

/** What is granted to whom: not to itself, not back up the chain, no more, no longer. */
function checkGrant(d: Delegator, hop: Hop, e: Expected, now: number): void {
  const c = hop.claims;
  const at = `hop ${c.dep}`;
  if (c.sub === c.iss) fail('ERR_SELF_DELEGATION', `${at}: ${c.iss} delegates to itself`);
  if (e.path.includes(c.sub)) fail('ERR_CHAIN_CYCLE', `${at} delegates back to ${c.sub} (${[...e.path, c.sub].join(' → ')})`);
  if (e.keys.has(c.k)) fail('ERR_CHAIN_CYCLE', `${at} binds a key already bound in the chain`);
  const cover = coversAll(d.scopes, hop.scopes);
  if (!cover.ok) fail('ERR_SCOPE_ESCALATION', `${at} ${cover.reason}`);
  if (c.exp > d.claims.exp) fail('ERR_DELEGATION_EXPIRY_EXCEEDED', `${at} expires at ${c.exp}, after the delegator's token (${d.claims.exp})`);
  if (c.exp <= now) fail('ERR_DELEGATION_EXPIRY_EXCEEDED', `${at} expired at ${c.exp}`);
}

/** The delegatee as identity knows it, and the workflow's delegation policy. */
async function delegateeOf(ctx: DelegationContext, sub: string, workflow: string): Promise<GetAgentResponse> {
  const { message, metadata } = withServiceProof(ctx, `/${IdentityService.typeName}/GetAgent`, GetAgentRequestSchema, { spiffeId: sub, policyWorkflowId: workflow });
  try {
    return await ctx.identityClient.getAgent(message, { metadata });
  } catch (err) {
    if (isBatonError(err) && err.code === 'ERR_AGENT_NOT_FOUND') fail('ERR_DELEGATEE_UNKNOWN', `delegatee ${sub} is not registered`);
    throw err;
  }
}

/** Policy: the delegatee is live, holds the key the hop binds, is an allowed target; depth and re-delegation per workflow. */
function checkPolicy(d: Delegator, hop: Hop, agent: GetAgentResponse): { maxTtl: number; defaultTtl: number } {
  const c = hop.claims;
  if (!agent.live) fail('ERR_DELEGATEE_UNKNOWN', `delegatee ${c.sub} is ${agent.status}, not a live instance`);
  if (agent.keyThumbprint !== thumbprintOfX(c.k)) fail('ERR_CHAIN_KEY_MISMATCH', `hop ${c.dep} binds a key other than delegatee ${c.sub}'s registered key`);
  const policy = agent.delegationPolicy;
  if (policy === undefined) return fail('ERR_INTERNAL', 'identity returned no delegation policy');
  const maxDepth = Math.min(policy.maxDelegationDepth || MAX_DELEGATION_DEPTH, MAX_DELEGATION_DEPTH);
  if (c.dep > maxDepth) fail('ERR_DELEGATION_DEPTH_EXCEEDED', `hop ${c.dep} exceeds workflow ${policy.workflowId}'s maximum depth ${maxDepth}`);
  if (c.dep > 1 && !policy.allowRedelegation) fail('ERR_REDELEGATION_NOT_ALLOWED', `workflow ${policy.workflowId} does not allow re-delegation`);
  const from = parseAgentSpiffeId(d.claims.sub);
  const to = parseAgentSpiffeId(c.sub);
  const sameOrchestration = to.trustDomain === from.trustDomain && agent.orchestrationId === d.claims.orch_id;
  if (!sameOrchestration && !policy.allowedDelegationTargets.some((p) => matchSpiffePattern(p, c.sub))) {
    fail('ERR_DELEGATION_TARGET_NOT_ALLOWED', `${c.sub} is outside orchestration ${d.claims.orch_id} and matches no allowed target of workflow ${policy.workflowId}`);
  }
  return { maxTtl: policy.maxTokenTtlSeconds, defaultTtl: policy.defaultTokenTtlSeconds };
}

/** The whole Delegate operation for an authenticated delegator. */
export async function delegate(ctx: DelegationContext, d: Delegator, compactHop: string): Promise<MessageInitShape<typeof DelegateResponseSchema>> {
  const n = d.chain?.depth ?? 0;
  if (n + 1 > MAX_DELEGATION_DEPTH) fail('ERR_DELEGATION_DEPTH_EXCEEDED', `the delegator already holds a depth-${n} token (maximum ${MAX_DELEGATION_DEPTH})`);
  const hop = decodeHop(compactHop);
  const now = nowSeconds(ctx.clock);
  const e = checkHopAgainstDelegator(d, hop);
  checkGrant(d, hop, e, now);
  // Defence in depth: the chain the child token will carry holds as a whole.
  const hops = [...e.hops, hop];
  walkChain(hops, { tokenHash: e.rootTokenHash, jti: e.rootJti }, { maxDepth: MAX_DELEGATION_DEPTH });

  const c = hop.claims;
  const agent = await delegateeOf(ctx, c.sub, d.claims.wf);
  const ttl = checkPolicy(d, hop, agent);

  const chainHash = chainStep(e.prv, hop.hash);
  const actors = e.path;
  await reserveHop(
    ctx.db,
    {
      hopHash: hop.hash,
      chainHash,
      parentChainHash: e.prv,
      depth: e.depth,
      delegator: c.iss,
      delegatee: c.sub,
      principal: c.pri,
      workflow: d.claims.wf,
      scopes: JSON.stringify(hop.scopes),
      exp: c.exp,
    },
    { chainHash, rootTokenHash: e.rootTokenHash, rootJti: e.rootJti, hops: hops.map((h) => h.compact), depth: e.depth, exp: c.exp },
    now,
  );

  const to = parseAgentSpiffeId(c.sub);
  const audiences = typeof d.claims.aud === 'string' ? [d.claims.aud] : [...d.claims.aud];
  const { message, metadata } = withServiceProof(ctx, `/${IssuerService.typeName}/Issue`, IssueRequestSchema, {
    subject: c.sub,
    workflowId: d.claims.wf,
    orchestrationId: to.orchestration,
    taskId: to.task,
    instanceId: to.instance,
    principal: c.pri,
    scopes: hop.scopes.map(scopeToProto),
    audiences,
    keyThumbprint: thumbprintOfX(c.k),
    requestedTtlSeconds: c.exp - now,
    defaultTtlSeconds: ttl.defaultTtl,
    maxTtlSeconds: ttl.maxTtl,
    taskDeadline: agent.taskDeadline,
    delegation: {
      hops: hops.map((h) => h.compact),
      chainHash,
      depth: e.depth,
      actors: [...actors],
      rootTokenHash: e.rootTokenHash,
      rootJti: e.rootJti,
    },
  });
  let issued;
  try {
    issued = await ctx.issuerClient.issue(message, { metadata });
  } catch (err) {
    await releaseHop(ctx.db, hop.hash, chainHash).catch(() => undefined);
    throw err;
  }
  await completeHop(ctx.db, hop.hash, issued.jti);
  await emit(ctx, {
    type: 'delegation.granted',
    outcome: 'allow',
    agent: c.sub,
    task: to.task,
    orchestration: to.orchestration,
    workflow: d.claims.wf,
    principal: c.pri,
    delegationDepth: e.depth,
    chainHash,
    intermediateAgents: actors,
    tokenBytes: issued.accessToken.length,
    attributes: {
      hop: hop.hash,
      delegator: c.iss,
      delegatee: c.sub,
      jti: issued.jti,
      granted_scope: hop.scopes.map(formatScope).join(' '),
      ttl_s: String(issued.grantedTtlSeconds),
      ...(issued.reference !== '' ? { token_ref: issued.reference } : {}),
    },
  });
  return {
    accessToken: issued.accessToken,
    chainHash,
    depth: e.depth,
    expiresAt: issued.expiresAt,
    grantedTtlSeconds: issued.grantedTtlSeconds,
    hopHash: hop.hash,
  };
}
