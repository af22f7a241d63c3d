/**
 * The closed set of audit event types, and which outcomes each may carry. An event
 * whose outcome contradicts its type (a `validation.denied` marked `allow`) is rejected.
 */

import type { AuditOutcome } from '@baton/core';

export type { AuditOutcome };

const TYPES = {
  'launch_token.created': ['info'],
  'launch_token.consumed': ['allow'],
  'launch_token.replayed': ['deny'],
  'agent.registered': ['allow'],
  'agent.registration_failed': ['deny'],
  'agent.superseded': ['info'],
  'svid.issued': ['allow'],
  'svid.denied': ['deny'],
  'token.issued': ['allow'],
  'token.renewed': ['allow'],
  'token.denied': ['deny'],
  'token.released': ['info'],
  'token.revoked': ['info'],
  'delegation.granted': ['allow'],
  'delegation.denied': ['deny'],
  'validation.allowed': ['allow'],
  'validation.denied': ['deny'],
  'heartbeat.missed': ['info'],
  'anomaly.revoked': ['info'],
  'key.rotated': ['info'],
  'handshake.completed': ['allow'],
  'handshake.failed': ['deny'],
} as const satisfies Record<string, readonly AuditOutcome[]>;

/** An audit event type, e.g. `token.issued`. */
export type AuditEventType = keyof typeof TYPES;

/** Every event type the log accepts, in a stable order. */
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = Object.freeze(Object.keys(TYPES) as AuditEventType[]);

/** True when `type` is one of {@link AUDIT_EVENT_TYPES}. */
export function isAuditEventType(type: unknown): type is AuditEventType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(TYPES, type);
}

/** The outcomes an event of `type` may carry; the first is its default. */
export function outcomesOf(type: AuditEventType): readonly AuditOutcome[] {
  return TYPES[type];
}

/**
 * Event types that may be aggregated (repetitive successful reads). Failures, writes,
 * delegations and every other type are never aggregated.
 */
export const AGGREGATABLE_TYPES: ReadonlySet<AuditEventType> = new Set<AuditEventType>(['validation.allowed']);
