/**
 * Workflows: the governed objects whose policy bounds every task. Operator only.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, assertId } from '@baton/core';
import {
  CreateWorkflowResponseSchema,
  GetWorkflowResponseSchema,
  ListWorkflowsResponseSchema,
  WorkflowSchema,
  type CreateWorkflowRequest,
  type CreateWorkflowResponse,
  type GetWorkflowRequest,
  type GetWorkflowResponse,
  type ListWorkflowsRequest,
  type ListWorkflowsResponse,
  type Workflow,
} from './proto.js';
import type { SqlExecutor } from '@baton/store';
import type { IdentityContext } from './context.js';
import { IDENTITY_DEFAULTS } from './options.js';
import { policyFromJson, policyToJson, policyToProto, validatePolicy, type StoredPolicy } from './policy.js';

/** A workflow as stored. */
export interface WorkflowRecord {
  readonly id: string;
  readonly policy: StoredPolicy;
  readonly description: string;
  /** Unix ms. */
  readonly createdAt: number;
}

interface WorkflowRow {
  id: string;
  policy: string;
  description: string;
  created_at: number;
}

const MAX_DESCRIPTION = 1024;

function fromRow(r: WorkflowRow): WorkflowRecord {
  return { id: r.id, policy: policyFromJson(r.policy), description: r.description, createdAt: Number(r.created_at) };
}

function toProto(w: WorkflowRecord): Workflow {
  return create(WorkflowSchema, {
    id: w.id,
    policy: policyToProto(w.policy),
    createdAt: BigInt(Math.floor(w.createdAt / 1000)),
    description: w.description,
  });
}

/** The workflow, or undefined. */
export async function findWorkflow(db: SqlExecutor, id: string): Promise<WorkflowRecord | undefined> {
  const row = await db.get<WorkflowRow>('SELECT id, policy, description, created_at FROM identity_workflows WHERE id = ?', [id]);
  return row ? fromRow(row) : undefined;
}

/** CreateWorkflow: validates the policy, applies and stores every default. */
export async function createWorkflow(ctx: IdentityContext, req: CreateWorkflowRequest): Promise<CreateWorkflowResponse> {
  const id = assertId('workflow', req.id);
  if (req.description.length > MAX_DESCRIPTION) throw new BatonError('ERR_INVALID_ARGUMENT', 'description too long');
  const policy = validatePolicy(req.policy);
  const record: WorkflowRecord = { id, policy, description: req.description, createdAt: ctx.clock.now() };
  const r = await ctx.db.run(
    'INSERT INTO identity_workflows (id, policy, description, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
    [id, policyToJson(policy), record.description, record.createdAt],
  );
  if (r.changes !== 1) throw new BatonError('ERR_WORKFLOW_EXISTS', `workflow ${id} exists`);
  return create(CreateWorkflowResponseSchema, { workflow: toProto(record) });
}

/** GetWorkflow. */
export async function getWorkflow(ctx: IdentityContext, req: GetWorkflowRequest): Promise<GetWorkflowResponse> {
  const id = assertId('workflow', req.id);
  const w = await findWorkflow(ctx.db, id);
  if (!w) throw new BatonError('ERR_WORKFLOW_NOT_FOUND', `workflow ${id}`);
  return create(GetWorkflowResponseSchema, { workflow: toProto(w) });
}

/** Page tokens are the base64url of the last id returned (ids sort as plain strings). */
function decodePageToken(token: string): string | undefined {
  if (token === '') return undefined;
  let id: string;
  try {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(token)) throw new Error('shape');
    id = Buffer.from(token, 'base64url').toString('utf8');
    assertId('workflow', id);
  } catch {
    throw new BatonError('ERR_INVALID_ARGUMENT', 'malformed page token');
  }
  return id;
}

/** ListWorkflows, ordered by id, paginated. */
export async function listWorkflows(ctx: IdentityContext, req: ListWorkflowsRequest): Promise<ListWorkflowsResponse> {
  const size = Math.min(req.pageSize === 0 ? IDENTITY_DEFAULTS.pageSize : req.pageSize, IDENTITY_DEFAULTS.maxPageSize);
  const after = decodePageToken(req.pageToken);
  const rows =
    after === undefined
      ? await ctx.db.all<WorkflowRow>('SELECT id, policy, description, created_at FROM identity_workflows ORDER BY id LIMIT ?', [size + 1])
      : await ctx.db.all<WorkflowRow>('SELECT id, policy, description, created_at FROM identity_workflows WHERE id > ? ORDER BY id LIMIT ?', [after, size + 1]);
  const page = rows.slice(0, size).map(fromRow);
  const more = rows.length > size;
  return create(ListWorkflowsResponseSchema, {
    workflows: page.map(toProto),
    nextPageToken: more ? Buffer.from(page[page.length - 1]!.id, 'utf8').toString('base64url') : '',
  });
}
