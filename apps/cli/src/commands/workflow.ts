/**
 * `baton workflow create|list|show`: the governed objects whose policy bounds every task
 * (operator key).
 */
import { assertId, isBatonError } from '@baton/core';
import { POLICY_DEFAULTS, POLICY_LIMITS } from '@baton/identity';
import { scopeToProto } from '@baton/proto';
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { WorkflowPolicySchema } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { withHint } from '../cli-error.js';
import { flag, list, str, type CommandSpec } from '../command-spec.js';
import { withConnection } from '../connection.js';
import { formatDuration, parseCount, parseDuration } from '../durations.js';
import { parseScopeArgs } from '../scope-input.js';
import { formatWorkflow, formatWorkflowTable, workflowView, type WorkflowView } from '../workflow-view.js';

/** Checks a workflow id locally (ERR_ID_INVALID with a hint). */
export function checkWorkflowId(id: string): string {
  try {
    return assertId('workflow', id);
  } catch (err) {
    if (isBatonError(err)) throw withHint(err, 'workflow ids are `[a-z0-9][a-z0-9._-]{0,63}`, e.g. expense-approval');
    throw err;
  }
}

function optionalDuration(value: string | undefined, name: string, max: number): number {
  return value === undefined ? 0 : parseDuration(value, name, 1, max);
}

export const workflowCreateCommand: CommandSpec = {
  path: ['workflow', 'create'],
  summary: 'Create a workflow and its policy: the scope ceiling and limits every task in it runs under.',
  description: 'Operator only. Scopes are `action:resource[:id]` or JSON with constraints. Durations are seconds or take s, m, h, d. Values left out take the policy defaults shown; the authority stores every default explicitly.',
  positionals: [{ name: 'id', description: 'workflow id, [a-z0-9][a-z0-9._-]{0,63}' }],
  options: {
    scope: { type: 'string', multiple: true, required: true, value: '<scope>', description: 'a scope of the ceiling: string form or JSON' },
    description: { type: 'string', value: '<text>', description: 'free text shown by `workflow show`', default: 'none' },
    'default-ttl': { type: 'string', value: '<duration>', description: 'access-token TTL when none is asked for', default: `${formatDuration(POLICY_DEFAULTS.defaultTokenTtlSeconds)}, at most --max-ttl` },
    'max-ttl': { type: 'string', value: '<duration>', description: `longest access-token TTL (≤ ${formatDuration(POLICY_LIMITS.maxTokenTtlSeconds)})`, default: formatDuration(POLICY_DEFAULTS.maxTokenTtlSeconds) },
    'max-task-ttl': { type: 'string', value: '<duration>', description: `longest task lifetime (≤ ${formatDuration(POLICY_LIMITS.maxTaskTtlSeconds)})`, default: formatDuration(POLICY_DEFAULTS.maxTaskTtlSeconds) },
    'max-renewals': { type: 'string', value: '<n>', description: `renewals per token lineage (≤ ${POLICY_LIMITS.maxRenewals})`, default: String(POLICY_DEFAULTS.maxRenewals) },
    'max-depth': { type: 'string', value: '<n>', description: `longest delegation chain (1..${POLICY_LIMITS.maxDelegationDepth})`, default: String(POLICY_DEFAULTS.maxDelegationDepth) },
    audience: { type: 'string', multiple: true, value: '<aud>', description: 'an audience tokens of this workflow may name', default: 'any audience' },
    'allow-target': { type: 'string', multiple: true, value: '<spiffe-pattern>', description: 'SPIFFE id pattern outside the orchestration that may receive delegations (`*` = one segment)', default: 'same orchestration only' },
    'no-redelegation': { type: 'boolean', description: 'delegatees may not delegate further', default: 'off: re-delegation allowed' },
    'heartbeat-interval': { type: 'string', value: '<duration>', description: `interval agents heartbeat at (${POLICY_LIMITS.minHeartbeatIntervalSeconds}s..${formatDuration(POLICY_LIMITS.maxHeartbeatIntervalSeconds)})`, default: formatDuration(POLICY_DEFAULTS.heartbeatIntervalSeconds) },
    'heartbeat-misses': { type: 'string', value: '<n>', description: 'missed heartbeats before an agent is flagged', default: String(POLICY_DEFAULTS.missesBeforeFlag) },
    'revoke-on-missed-heartbeats': { type: 'boolean', description: 'revoke an agent once it is flagged', default: 'off' },
    'audit-fail-closed': { type: 'boolean', description: 'refuse operations the audit log cannot durably record', default: 'off: events are spooled' },
  },
  client: true,
  examples: [
    'baton workflow create reports --scope read:invoices:* --max-ttl 10m',
    `baton workflow create expense-approval --scope '{"action":"approve","resource":"payments","constraints":{"amount":{"max":10000}}}' --audience payments --max-depth 3`,
  ],
  async run(input, ctx) {
    const id = checkWorkflowId(input.positionals[0]!);
    const scopes = parseScopeArgs(list(input, 'scope'));
    const description = str(input, 'description') ?? '';
    const hbInterval = str(input, 'heartbeat-interval');
    const hbMisses = str(input, 'heartbeat-misses');
    const policy: MessageInitShape<typeof WorkflowPolicySchema> = {
      scopeCeiling: scopes.map((s) => scopeToProto(s)),
      defaultTokenTtlSeconds: optionalDuration(str(input, 'default-ttl'), 'default-ttl', POLICY_LIMITS.maxTokenTtlSeconds),
      maxTokenTtlSeconds: optionalDuration(str(input, 'max-ttl'), 'max-ttl', POLICY_LIMITS.maxTokenTtlSeconds),
      maxTaskTtlSeconds: optionalDuration(str(input, 'max-task-ttl'), 'max-task-ttl', POLICY_LIMITS.maxTaskTtlSeconds),
      maxRenewals: str(input, 'max-renewals') === undefined ? 0 : parseCount(str(input, 'max-renewals')!, 'max-renewals', 1, POLICY_LIMITS.maxRenewals),
      maxDelegationDepth: str(input, 'max-depth') === undefined ? 0 : parseCount(str(input, 'max-depth')!, 'max-depth', 1, POLICY_LIMITS.maxDelegationDepth),
      ...(flag(input, 'no-redelegation') ? { allowRedelegation: false } : {}),
      allowedDelegationTargets: list(input, 'allow-target'),
      heartbeat: {
        intervalSeconds: hbInterval === undefined ? 0 : parseDuration(hbInterval, 'heartbeat-interval', POLICY_LIMITS.minHeartbeatIntervalSeconds, POLICY_LIMITS.maxHeartbeatIntervalSeconds),
        missesBeforeFlag: hbMisses === undefined ? 0 : parseCount(hbMisses, 'heartbeat-misses', 1, POLICY_LIMITS.maxMissesBeforeFlag),
        revokeOnFlag: flag(input, 'revoke-on-missed-heartbeats'),
      },
      auditFailClosed: flag(input, 'audit-fail-closed'),
      audiences: list(input, 'audience'),
    };
    const view = await withConnection(input, ctx, async (c) => {
      const res = await c.identity().createWorkflow({ id, policy, description });
      return workflowView(res.workflow!);
    });
    ctx.out.result({ workflow: view }, () => `created ${formatWorkflow(view)}`);
  },
};

export const workflowListCommand: CommandSpec = {
  path: ['workflow', 'list'],
  summary: 'List every workflow with its main limits.',
  positionals: [],
  options: {},
  client: true,
  examples: ['baton workflow list', 'baton workflow list --json'],
  async run(input, ctx) {
    const all: WorkflowView[] = await withConnection(input, ctx, async (c) => {
      const out: WorkflowView[] = [];
      let pageToken = '';
      do {
        const res = await c.identity().listWorkflows({ pageSize: 100, pageToken });
        out.push(...res.workflows.map(workflowView));
        ctx.out.progress(`fetched ${out.length} workflows…`);
        pageToken = res.nextPageToken;
      } while (pageToken !== '');
      return out;
    });
    ctx.out.result({ workflows: all }, () => formatWorkflowTable(all));
  },
};

export const workflowShowCommand: CommandSpec = {
  path: ['workflow', 'show'],
  summary: 'Show one workflow and its full policy.',
  positionals: [{ name: 'id', description: 'workflow id' }],
  options: {},
  client: true,
  examples: ['baton workflow show expense-approval'],
  async run(input, ctx) {
    const id = checkWorkflowId(input.positionals[0]!);
    const view = await withConnection(input, ctx, async (c) => workflowView((await c.identity().getWorkflow({ id })).workflow!));
    ctx.out.result({ workflow: view }, () => formatWorkflow(view));
  },
};
