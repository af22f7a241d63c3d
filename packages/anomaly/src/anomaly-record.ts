/**
 * The `anomaly.revoked` audit record: which rule fired, on whose decisions, and what was
 * revoked. Shaped for the audit log's validator (allowlisted snake_case attributes).
 */
import type { AuditRecord } from '@baton/core';
import type { AnomalyAction } from './anomaly-engine.js';

/** Bounds a value for reasonDetail (the log caps that field at 2 KB). */
const short = (s: string, max = 600): string => (s.length > max ? `${s.slice(0, max)}…` : s);

/** The audit record of one automatic revocation; `source` says who reported (`reporter:<id>` or `authority`). */
export function anomalyRecord(action: AnomalyAction, source: string): AuditRecord {
  const t = action.token;
  return {
    type: 'anomaly.revoked',
    outcome: 'info',
    source: 'anomaly',
    agent: t.sub,
    task: t.task_id,
    orchestration: t.orch_id,
    workflow: t.wf,
    principal: t.principal,
    action: 'revoke',
    resource: `revocation:${action.level}`,
    reasonCode: `anomaly.${action.rule}`,
    reasonDetail: short(`${action.detail}; revoked ${action.level} ${action.target} (reported by ${source})`),
    attributes: {
      anomaly: action.rule,
      revocation_kind: action.level,
      jti: t.jti,
    },
  };
}
