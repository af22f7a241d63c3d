/**
 * The DelegationService handlers: Delegate (authenticated delegator → child token),
 * GetChain (chains by hash; unauthenticated, chains are immutable and verified by
 * whoever fetches them against a signed chain hash), Verify (online verification).
 */
import { BatonError, isBatonError, type ScopeRequest } from '@baton/core';
import { scopeToProto, type CallContext, type ServiceImpl } from '@baton/proto';
import type { DelegationService, VerifyRequest } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { delegate } from './delegate.js';
import { authenticateDelegator, checkLive, type Delegator } from './delegator.js';
import { findChain } from './hop-repo.js';
import { emit, type DelegationContext } from './service-context.js';

const HASH_RE = /^[A-Za-z0-9_-]{43}$/;
const MAX_TOKEN_BYTES = 16 * 1024;

function requestOf(req: VerifyRequest): ScopeRequest | undefined {
  if (req.action === '' && req.resource === '') return undefined;
  const attributes: Record<string, string | number | boolean> = {};
  for (const a of req.attributes) {
    const v = a.value?.kind;
    if (v === undefined || v.case === undefined) throw new BatonError('ERR_INVALID_ARGUMENT', `attribute ${a.key} has no value`);
    attributes[a.key] = v.value;
  }
  return { action: req.action, resource: req.resource, ...(req.id !== '' ? { id: req.id } : {}), attributes };
}

async function denied(ctx: DelegationContext, err: unknown, who: Delegator | undefined, call: CallContext): Promise<void> {
  const code = isBatonError(err) ? err.code : 'ERR_INTERNAL';
  const detail = isBatonError(err) ? err.detail : 'internal error';
  try {
    await emit(ctx, {
      type: 'delegation.denied',
      outcome: 'deny',
      reasonCode: code,
      reasonDetail: detail,
      ...(who !== undefined
        ? {
            agent: who.claims.sub,
            task: who.claims.task_id,
            orchestration: who.claims.orch_id,
            workflow: who.claims.wf,
            principal: who.claims.principal,
            delegationDepth: who.chain?.depth ?? 0,
            ...(who.chain !== undefined ? { chainHash: who.chain.chainHash, intermediateAgents: who.chain.agents } : {}),
          }
        : {}),
      attributes: { method: call.method },
    });
  } catch {
    // the refusal stands whether or not it could be recorded
  }
}

/** Builds the handlers over one delegation context. */
export function delegationService(ctx: DelegationContext): ServiceImpl<typeof DelegationService> {
  return {
    async delegate(req, call) {
      let who: Delegator | undefined;
      try {
        who = await authenticateDelegator(ctx, call);
        return await delegate(ctx, who, req.hop);
      } catch (err) {
        await denied(ctx, err, who, call);
        throw err;
      }
    },

    async getChain(req) {
      if (!HASH_RE.test(req.chainHash)) throw new BatonError('ERR_INVALID_ARGUMENT', 'chain_hash must be a base64url SHA-256');
      const chain = await findChain(ctx.db, req.chainHash);
      if (chain === undefined) throw new BatonError('ERR_NOT_FOUND', 'no such chain');
      return { hops: [...chain.hops], chainHash: chain.chainHash, rootTokenHash: chain.rootTokenHash };
    },

    async verify(req, call) {
      try {
        if (req.accessToken.length > MAX_TOKEN_BYTES) throw new BatonError('ERR_TOKEN_TOO_LARGE', 'token too large');
        const request = requestOf(req);
        // The caller has the token, not the key: verify it as a bearer would be, online.
        const d = await ctx.guard.check({
          token: req.accessToken,
          htm: 'POST',
          htu: call.method,
          request,
          route: { proof: 'bearer-allowed', ...(request === undefined ? { authenticateOnly: true } : {}) },
        });
        if (!d.allow) return { valid: false, code: d.code };
        await checkLive(ctx, req.accessToken);
        return {
          valid: true,
          principal: d.principal,
          effectiveScopes: d.scopes.map(scopeToProto),
          agents: [...d.agents, d.subject],
          depth: d.depth,
        };
      } catch (err) {
        return { valid: false, code: isBatonError(err) ? err.code : 'ERR_INTERNAL' };
      }
    },
  };
}
