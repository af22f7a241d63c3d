/**
 * Workflows as the CLI shows them: a plain JSON view (scopes in Baton's JSON scope form,
 * times as numbers) and the human rendering of one workflow or a table of several.
 */
import { scopeFromProto } from '@baton/proto';
import type { Workflow } from '@baton/proto/baton/identity/v1/identity_pb.js';
import type { Scope } from '@baton/core';
import { formatDuration, isoTime } from './durations.js';
import { describeScope } from './scope-input.js';
import { table } from './table.js';

/** JSON view of a workflow. */
export interface WorkflowView {
  readonly id: string;
  readonly description: string;
  /** Unix seconds. */
  readonly createdAt: number;
  readonly policy: {
    readonly scopeCeiling: Scope[];
    readonly defaultTokenTtlSeconds: number;
    readonly maxTokenTtlSeconds: number;
    readonly maxTaskTtlSeconds: number;
    readonly maxRenewals: number;
    readonly maxDelegationDepth: number;
    readonly allowRedelegation: boolean;
    readonly allowedDelegationTargets: string[];
    readonly heartbeat: { readonly intervalSeconds: number; readonly missesBeforeFlag: number; readonly revokeOnFlag: boolean };
    readonly auditFailClosed: boolean;
    readonly audiences: string[];
  };
}

/** The JSON view of a workflow received from the authority. */
export function workflowView(w: Workflow): WorkflowView {
  const p = w.policy;
  return {
    id: w.id,
    description: w.description,
    createdAt: Number(w.createdAt),
    policy: {
      scopeCeiling: (p?.scopeCeiling ?? []).map((s) => scopeFromProto(s)),
      defaultTokenTtlSeconds: p?.defaultTokenTtlSeconds ?? 0,
      maxTokenTtlSeconds: p?.maxTokenTtlSeconds ?? 0,
      maxTaskTtlSeconds: p?.maxTaskTtlSeconds ?? 0,
      maxRenewals: p?.maxRenewals ?? 0,
      maxDelegationDepth: p?.maxDelegationDepth ?? 0,
      allowRedelegation: p?.allowRedelegation ?? true,
      allowedDelegationTargets: [...(p?.allowedDelegationTargets ?? [])],
      heartbeat: {
        intervalSeconds: p?.heartbeat?.intervalSeconds ?? 0,
        missesBeforeFlag: p?.heartbeat?.missesBeforeFlag ?? 0,
        revokeOnFlag: p?.heartbeat?.revokeOnFlag ?? false,
      },
      auditFailClosed: p?.auditFailClosed ?? false,
      audiences: [...(p?.audiences ?? [])],
    },
  };
}

function rows(label: string, values: readonly string[]): string[] {
  const pad = '  ' + label.padEnd(15);
  if (values.length === 0) return [`${pad} -`];
  return values.map((v, i) => (i === 0 ? `${pad} ${v}` : `${' '.repeat(pad.length)} ${v}`));
}

/** Multi-line human rendering of one workflow. */
export function formatWorkflow(w: WorkflowView): string {
  const p = w.policy;
  return [
    `workflow ${w.id} (created ${isoTime(w.createdAt)})`,
    ...(w.description ? rows('description', [w.description]) : []),
    ...rows('scope ceiling', p.scopeCeiling.map(describeScope)),
    ...rows('token TTL', [`default ${formatDuration(p.defaultTokenTtlSeconds)}, max ${formatDuration(p.maxTokenTtlSeconds)}`]),
    ...rows('task TTL', [`max ${formatDuration(p.maxTaskTtlSeconds)}`]),
    ...rows('renewals', [`max ${p.maxRenewals}`]),
    ...rows('delegation', [
      `depth ≤ ${p.maxDelegationDepth}, re-delegation ${p.allowRedelegation ? 'allowed' : 'not allowed'}`,
      `targets: ${p.allowedDelegationTargets.length ? p.allowedDelegationTargets.join(', ') : 'same orchestration only'}`,
    ]),
    ...rows('heartbeat', [
      `every ${formatDuration(p.heartbeat.intervalSeconds)}, flagged after ${p.heartbeat.missesBeforeFlag} misses, ${p.heartbeat.revokeOnFlag ? 'revoked when flagged' : 'not revoked when flagged'}`,
    ]),
    ...rows('audiences', [p.audiences.length ? p.audiences.join(', ') : 'any']),
    ...rows('audit', [p.auditFailClosed ? 'fail closed' : 'fail open (events spooled)']),
  ].join('\n');
}

/** The table of `baton workflow list`. */
export function formatWorkflowTable(list: readonly WorkflowView[]): string {
  if (list.length === 0) return 'no workflows yet: create one with `baton workflow create <id> --scope <scope>`';
  return table(
    ['ID', 'SCOPE CEILING', 'TOKEN TTL', 'TASK TTL', 'DEPTH', 'CREATED'],
    list.map((w) => [
      w.id,
      w.policy.scopeCeiling.map(describeScope).join(' '),
      `${formatDuration(w.policy.defaultTokenTtlSeconds)}/${formatDuration(w.policy.maxTokenTtlSeconds)}`,
      formatDuration(w.policy.maxTaskTtlSeconds),
      String(w.policy.maxDelegationDepth),
      isoTime(w.createdAt),
    ]),
  );
}
