/**
 * Who may read a workflow (GetWorkflow): operators, and the anomaly service, which
 * needs each workflow's anomaly rules. Proven by key over the exact request bytes.
 */
import { BatonError } from '@baton/core';
import { verifyKeyProof } from '@baton/guard';
import type { IdentityContext } from './context.js';
import type { CallContext } from './proto.js';

/** `operator:<id>` or `service:anomaly`; ERR_PERMISSION_DENIED for any other key. */
export function authenticateWorkflowReader(ctx: IdentityContext, request: object, call: CallContext): string {
  const { jkt } = verifyKeyProof(call, request, { replayCache: ctx.proofReplay, clock: ctx.clock });
  const operator = ctx.operators.get(jkt);
  if (operator !== undefined) return `operator:${operator}`;
  if (ctx.services.get(jkt) === 'anomaly') return 'service:anomaly';
  throw new BatonError('ERR_PERMISSION_DENIED', `key ${jkt} may not read workflows`);
}
