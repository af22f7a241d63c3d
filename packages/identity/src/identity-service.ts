/**
 * The IdentityService handlers: authentication first (by the rule of each method), then
 * the method's own module.
 */
import { BatonError } from '@baton/core';
import { authenticateAgent, authenticateOperator, authenticateOrchestrator, hasAgentCredentials } from './auth.js';
import type { IdentityContext } from './context.js';
import { explicitResolveScope, publish, resolve } from './discovery.js';
import { heartbeat } from './heartbeats.js';
import { authenticateService, getAgent } from './get-agent.js';
import { createLaunchToken } from './launch-tokens.js';
import { addOrchestrator } from './orchestrators.js';
import type { IdentityService, ServiceImpl } from './proto.js';
import { register } from './register.js';
import type { TrustBundleSource } from './trust-bundle.js';
import { createWorkflow, getWorkflow, listWorkflows } from './workflows.js';
import { authenticateWorkflowReader } from './workflow-reader.js';
import { issueSvidBoundToken } from './svid-bound-token.js';
import { renewSvid } from './svids.js';

/** Builds the handlers over one identity context. */
export function identityService(ctx: IdentityContext, trustBundle: TrustBundleSource): ServiceImpl<typeof IdentityService> {
  return {
    async createWorkflow(req, call) {
      authenticateOperator(ctx, req, call);
      return createWorkflow(ctx, req);
    },

    async getWorkflow(req, call) {
      authenticateWorkflowReader(ctx, req, call);
      return getWorkflow(ctx, req);
    },

    async listWorkflows(req, call) {
      authenticateOperator(ctx, req, call);
      return listWorkflows(ctx, req);
    },

    async addOrchestrator(req, call) {
      authenticateOperator(ctx, req, call);
      return addOrchestrator(ctx, req);
    },

    async createLaunchToken(req, call) {
      const orchestrator = await authenticateOrchestrator(ctx, req, call);
      return createLaunchToken(ctx, orchestrator, req);
    },

    async getChallenge() {
      const { nonce, expiresAt } = await ctx.challenges.issue();
      return { nonce, expiresAt: BigInt(Math.floor(expiresAt / 1000)) };
    },

    async register(req) {
      return register(ctx, req);
    },

    async heartbeat(req, call) {
      const d = await authenticateAgent(ctx, call);
      return heartbeat(ctx, d.subject, d.claims.cnf.jkt, req);
    },

    async publish(req, call) {
      const d = await authenticateAgent(ctx, call);
      return publish(ctx, d.subject, d.claims.cnf.jkt, req);
    },

    async resolve(req, call) {
      // Unauthenticated with an explicit scope; otherwise the calling agent's own task.
      let scope = explicitResolveScope(req);
      if (scope === undefined) {
        if (!hasAgentCredentials(call)) throw new BatonError('ERR_INVALID_ARGUMENT', 'orchestration_id and task_id required');
        const d = await authenticateAgent(ctx, call);
        scope = { orchestrationId: d.claims.orch_id, taskId: d.claims.task_id };
      }
      return resolve(ctx, scope, req);
    },

    async getTrustBundle() {
      return trustBundle.get();
    },

    async getAgent(req, call) {
      authenticateService(ctx, req, call);
      return getAgent(ctx, req);
    },

    async renewSvid(_req, call) {
      return renewSvid(ctx, await authenticateAgent(ctx, call));
    },

    async issueSvidBoundToken(req, call) {
      return issueSvidBoundToken(ctx, await authenticateAgent(ctx, call), req);
    },
  };
}
