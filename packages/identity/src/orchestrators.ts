/**
 * Orchestrators: registered workloads, each with its own Ed25519 key, allowed to start
 * tasks in a set of workflows. The key's RFC 7638 thumbprint is how a later
 * CreateLaunchToken call is attributed. Added by operators only.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, assertId, jwkThumbprint, publicJwkOf, publicKeyFromRaw } from '@baton/core';
import { AddOrchestratorResponseSchema, type AddOrchestratorRequest, type AddOrchestratorResponse } from './proto.js';
import type { SqlExecutor } from '@baton/store';
import type { IdentityContext } from './context.js';

const MAX_WORKFLOWS = 64;

/** An orchestrator as stored. */
export interface OrchestratorRecord {
  readonly id: string;
  readonly jkt: string;
}

/** The orchestrator holding the key with thumbprint `jkt`, or undefined. */
export async function findOrchestratorByJkt(db: SqlExecutor, jkt: string): Promise<OrchestratorRecord | undefined> {
  return db.get<OrchestratorRecord>('SELECT id, jkt FROM identity_orchestrators WHERE jkt = ?', [jkt]);
}

/** True when orchestrator `id` may start tasks in workflow `workflowId`. */
export async function orchestratorMayUse(db: SqlExecutor, id: string, workflowId: string): Promise<boolean> {
  const row = await db.get('SELECT 1 AS ok FROM identity_orchestrator_workflows WHERE orchestrator_id = ? AND workflow_id = ?', [id, workflowId]);
  return row !== undefined;
}

/** AddOrchestrator: a raw 32-byte Ed25519 key (a valid point) and existing workflows. */
export async function addOrchestrator(ctx: IdentityContext, req: AddOrchestratorRequest): Promise<AddOrchestratorResponse> {
  const id = assertId('orchestration', req.id);
  const jkt = jwkThumbprint(publicJwkOf(publicKeyFromRaw(req.publicKey)));
  if (req.workflowIds.length === 0 || req.workflowIds.length > MAX_WORKFLOWS) {
    throw new BatonError('ERR_INVALID_ARGUMENT', `workflow_ids must list 1..${MAX_WORKFLOWS} workflows`);
  }
  const workflows = [...new Set(req.workflowIds.map((w) => assertId('workflow', w)))];
  // Roles stay apart: a key cannot be both an operator's and an orchestrator's.
  if (ctx.operators.has(jkt) || jkt === ctx.serviceKey.thumbprint) throw new BatonError('ERR_ALREADY_EXISTS', 'key already has another role');

  await ctx.db.transaction(async (tx) => {
    for (const w of workflows) {
      if (!(await tx.get('SELECT 1 AS ok FROM identity_workflows WHERE id = ?', [w]))) throw new BatonError('ERR_WORKFLOW_NOT_FOUND', `workflow ${w}`);
    }
    // Any conflict (same id or same key) refuses the whole call.
    const r = await tx.run('INSERT INTO identity_orchestrators (id, jkt, public_key, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      id,
      jkt,
      Buffer.from(req.publicKey).toString('base64url'),
      ctx.clock.now(),
    ]);
    if (r.changes !== 1) throw new BatonError('ERR_ALREADY_EXISTS', 'orchestrator id or key already registered');
    for (const w of workflows) {
      await tx.run('INSERT INTO identity_orchestrator_workflows (orchestrator_id, workflow_id) VALUES (?, ?)', [id, w]);
    }
  });
  return create(AddOrchestratorResponseSchema, { id, keyThumbprint: jkt });
}
