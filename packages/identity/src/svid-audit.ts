/**
 * Audit records of the identity CA's acts: `svid.issued`, `svid.denied`, and
 * `key.rotated` (resource `identity_ca`) when issuing an SVID rotated the CA. Pure
 * builders; svids.ts emits them before the SVID is handed out, so an SVID that reached
 * an agent is always in the log (an audit outage fails the call closed).
 *
 * Attributes use allowlisted names: `kid` (the signing CA), `expires_at` (the SVID's
 * notAfter, Unix seconds), `serial` (lowercase hex), `mode` (`registration` or
 * `renewal`), `key_kind`. The SPIFFE id is the event's `agent` (it ends with the
 * instance id).
 */
import type { AuditRecord, BatonError } from '@baton/core';
import type { AgentRecord } from './agents.js';
import type { IssuedSvid } from './identity-ca.js';

/** Why an SVID was requested. */
export type SvidMode = 'registration' | 'renewal';

/** The agent facts an SVID event names. */
export type SvidAuditSubject = Pick<AgentRecord, 'spiffeId' | 'workflowId' | 'orchestrationId' | 'taskId' | 'principal'>;

/** What is known of a refused caller (its agent record may not exist). */
export type SvidDeniedSubject = Pick<SvidAuditSubject, 'spiffeId'> & Partial<SvidAuditSubject>;

const seconds = (ms: number): string => String(Math.floor(ms / 1000));

function subjectFields(s: SvidDeniedSubject): Pick<AuditRecord, 'agent' | 'workflow' | 'orchestration' | 'task' | 'principal'> {
  return {
    agent: s.spiffeId,
    ...(s.workflowId ? { workflow: s.workflowId } : {}),
    ...(s.orchestrationId ? { orchestration: s.orchestrationId } : {}),
    ...(s.taskId ? { task: s.taskId } : {}),
    ...(s.principal ? { principal: s.principal } : {}),
  };
}

/** `svid.issued`: which CA certified which agent, until when, under which serial. */
export function svidIssuedRecord(agent: SvidAuditSubject, svid: IssuedSvid, mode: SvidMode): AuditRecord {
  return {
    type: 'svid.issued',
    outcome: 'allow',
    ...subjectFields(agent),
    action: 'issue',
    resource: 'svid',
    reasonDetail: `CA ${svid.kid} issued SVID ${svid.serial} (${mode}) valid until ${seconds(svid.notAfter)}`,
    attributes: { kid: svid.kid, serial: svid.serial, expires_at: seconds(svid.notAfter), mode },
  };
}

/** `svid.denied`: an SVID request refused, with the code the caller got. */
export function svidDeniedRecord(subject: SvidDeniedSubject, err: BatonError, mode: SvidMode): AuditRecord {
  return {
    type: 'svid.denied',
    outcome: 'deny',
    ...subjectFields(subject),
    action: 'issue',
    resource: 'svid',
    reasonCode: err.code,
    reasonDetail: err.detail,
    attributes: { mode },
  };
}

/** `key.rotated` for the identity CA, rotated because the active CA neared its end. */
export function caRotationRecord(newKid: string, retiredKid: string): AuditRecord {
  return {
    type: 'key.rotated',
    outcome: 'info',
    action: 'rotate',
    resource: 'identity_ca',
    reasonDetail: `identity CA rotated ${retiredKid} → ${newKid} (active CA near its end)`,
    attributes: { kid: newKid, key_kind: 'ca_expiry' },
  };
}
