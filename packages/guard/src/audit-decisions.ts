/**
 * Turns guard decisions into audit records (`validation.allowed` / `validation.denied`
 * with the precise reason), for the guard's `onDecision` hook.
 */
import type { AuditRecord, AuditSink } from '@baton/core';
import type { Decision, DecisionInfo } from './decision.js';

/** The audit record of one decision. */
export function decisionAuditRecord(decision: Decision, info: DecisionInfo, source?: string): AuditRecord {
  const c = info.claims;
  return {
    type: decision.allow ? 'validation.allowed' : 'validation.denied',
    outcome: decision.allow ? 'allow' : 'deny',
    ...(source !== undefined ? { source } : {}),
    ...(c !== undefined
      ? { agent: c.sub, task: c.task_id, orchestration: c.orch_id, workflow: c.wf, principal: c.principal }
      : {}),
    ...(info.request !== undefined ? { action: info.request.action, resource: info.request.resource } : {}),
    ...(decision.allow
      ? { delegationDepth: decision.depth, intermediateAgents: decision.agents }
      : { reasonCode: decision.code, reasonDetail: decision.reason }),
    ...(info.chainHash !== undefined ? { chainHash: info.chainHash } : {}),
    ...(info.tokenBytes !== undefined ? { tokenBytes: info.tokenBytes } : {}),
    attributes: { htm: info.htm, htu: info.htu, ...(decision.allow && decision.bearer ? { bearer: 'true' } : {}) },
  };
}

/**
 * An `onDecision` hook that emits every decision to `sink` without holding up the
 * request (failures are counted by the sink's own spool, never thrown here).
 *
 * @example createGuard({ ...opts, onDecision: auditDecisions(auditSink, { source: 'guard:payments' }) })
 */
export function auditDecisions(sink: AuditSink, options: { source?: string } = {}): (decision: Decision, info: DecisionInfo) => void {
  if (typeof sink?.emit !== 'function') throw new TypeError('auditDecisions: sink required');
  return (decision, info) => {
    sink.emit(decisionAuditRecord(decision, info, options.source)).catch(() => undefined);
  };
}
