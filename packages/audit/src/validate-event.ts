/**
 * Boundary validation of one submitted event. Cheap structural checks only; anything
 * that fails throws a BatonError for this event alone (the batch goes on):
 * ERR_AUDIT_EVENT_INVALID for malformed fields or an unknown type,
 * ERR_MESSAGE_TOO_LARGE for an oversized field or attribute (never truncated silently).
 */
import { BatonError } from '@baton/core';
import type { AuditEventFields } from './event.js';
import { AGGREGATABLE_TYPES, isAuditEventType, outcomesOf, type AuditOutcome } from './event-types.js';

/** Size limits, in UTF-8 bytes unless noted. */
export const AUDIT_LIMITS = Object.freeze({
  /** agent, intermediate agents (SPIFFE ids are at most 2048 bytes). */
  agentBytes: 2048,
  /** task, orchestration, workflow, source. */
  idBytes: 256,
  principalBytes: 1024,
  /** action and resource. */
  targetBytes: 512,
  reasonDetailBytes: 2048,
  /** Attributes per event (count). */
  attributes: 32,
  attributeValueBytes: 1024,
  /** Intermediate agents per event (count); delegation depth is at most 5 by policy. */
  intermediateAgents: 16,
});

const invalid = (detail: string): never => {
  throw new BatonError('ERR_AUDIT_EVENT_INVALID', detail);
};

const EVENT_ID = /^[A-Za-z0-9_-]{16,64}$/;
const SOURCE = /^[A-Za-z0-9._:/-]{1,128}$/;
const REASON_CODE = /^[A-Za-z0-9_.:-]{0,64}$/;
const CHAIN_HASH = /^[A-Za-z0-9_-]{0,128}$/;
const TRACE_ID = /^(?:[0-9a-f]{32})?$/;
const SPAN_ID = /^(?:[0-9a-f]{16})?$/;
const ATTRIBUTE_KEY = /^[a-z][a-z0-9_.]{0,63}$/;
// Control characters (C0 except tab/newline/CR, DEL, C1) are refused everywhere; tab and
// newlines only in free text, where the sanitizer still sees (and redacts) PEM blocks.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_EXCEPT_WS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;
const OUTCOMES: readonly AuditOutcome[] = ['allow', 'deny', 'info'];

function str(name: string, v: unknown, maxBytes: number, opts?: { multiline?: boolean }): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') return invalid(`${name} must be a string`);
  if (Buffer.byteLength(v, 'utf8') > maxBytes) throw new BatonError('ERR_MESSAGE_TOO_LARGE', `${name} exceeds ${maxBytes} bytes`);
  if ((opts?.multiline ? CONTROL_EXCEPT_WS : CONTROL).test(v)) return invalid(`${name} holds control characters`);
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(v)) return invalid(`${name} holds a lone surrogate`);
  return v;
}

function fmt(name: string, v: unknown, re: RegExp): string {
  if (v === undefined || v === null) v = '';
  if (typeof v !== 'string' || !re.test(v)) return invalid(`${name} is malformed`);
  return v;
}

function uint(name: string, v: unknown, max: number): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) return invalid(`${name} must be an integer in [0, ${max}]`);
  return v;
}

/**
 * Validates and normalizes one submitted event (principal still raw: sanitize next).
 *
 * @example validateEvent({ eventId, time: Date.now(), type: 'token.issued', source: 'issuer' })
 */
export function validateEvent(input: unknown): AuditEventFields {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return invalid('event must be an object');
  const e = input as Record<string, unknown>;
  const eventId = fmt('eventId', e.eventId, EVENT_ID);
  const type = e.type;
  if (!isAuditEventType(type)) return invalid(`unknown event type`);
  const time = uint('time', e.time, Number.MAX_SAFE_INTEGER);
  if (time === 0) return invalid('time is required');
  const allowed = outcomesOf(type);
  const outcome = e.outcome === undefined || e.outcome === null ? allowed[0]! : (e.outcome as AuditOutcome);
  if (!OUTCOMES.includes(outcome)) return invalid('outcome is malformed');
  if (!allowed.includes(outcome)) return invalid(`outcome ${outcome} contradicts type ${type}`);

  let count = uint('count', e.count, 0xffffffff);
  const firstTime = uint('firstTime', e.firstTime, Number.MAX_SAFE_INTEGER);
  const lastTime = uint('lastTime', e.lastTime, Number.MAX_SAFE_INTEGER);
  if (count === 0) count = 1;
  if (count > 1) {
    if (!AGGREGATABLE_TYPES.has(type)) return invalid(`type ${type} is never aggregated`);
    if (firstTime === 0 || lastTime < firstTime) return invalid('aggregated events need firstTime <= lastTime');
  } else if (firstTime !== 0 || lastTime !== 0) {
    return invalid('firstTime/lastTime are only for aggregated events');
  }

  const intermediate = e.intermediateAgents ?? [];
  if (!Array.isArray(intermediate)) return invalid('intermediateAgents must be an array');
  if (intermediate.length > AUDIT_LIMITS.intermediateAgents) throw new BatonError('ERR_MESSAGE_TOO_LARGE', 'too many intermediate agents');
  const intermediateAgents = intermediate.map((a, i) => str(`intermediateAgents[${i}]`, a, AUDIT_LIMITS.agentBytes));

  const rawAttrs = e.attributes ?? {};
  if (typeof rawAttrs !== 'object' || rawAttrs === null || Array.isArray(rawAttrs)) return invalid('attributes must be an object');
  const keys = Object.keys(rawAttrs);
  if (keys.length > AUDIT_LIMITS.attributes) throw new BatonError('ERR_MESSAGE_TOO_LARGE', `more than ${AUDIT_LIMITS.attributes} attributes`);
  const attributes: Record<string, string> = {};
  for (const k of keys.sort()) {
    if (!ATTRIBUTE_KEY.test(k)) return invalid('attribute key is malformed');
    attributes[k] = str(`attribute ${k}`, (rawAttrs as Record<string, unknown>)[k], AUDIT_LIMITS.attributeValueBytes, { multiline: true });
  }

  return {
    eventId,
    time,
    type,
    source: fmt('source', e.source, SOURCE),
    outcome,
    agent: str('agent', e.agent, AUDIT_LIMITS.agentBytes),
    task: str('task', e.task, AUDIT_LIMITS.idBytes),
    orchestration: str('orchestration', e.orchestration, AUDIT_LIMITS.idBytes),
    workflow: str('workflow', e.workflow, AUDIT_LIMITS.idBytes),
    principal: str('principal', e.principal, AUDIT_LIMITS.principalBytes),
    action: str('action', e.action, AUDIT_LIMITS.targetBytes),
    resource: str('resource', e.resource, AUDIT_LIMITS.targetBytes),
    reasonCode: fmt('reasonCode', e.reasonCode, REASON_CODE),
    reasonDetail: str('reasonDetail', e.reasonDetail, AUDIT_LIMITS.reasonDetailBytes, { multiline: true }),
    delegationDepth: uint('delegationDepth', e.delegationDepth, 64),
    chainHash: fmt('chainHash', e.chainHash, CHAIN_HASH),
    intermediateAgents,
    traceId: fmt('traceId', e.traceId, TRACE_ID),
    spanId: fmt('spanId', e.spanId, SPAN_ID),
    requestBytes: uint('requestBytes', e.requestBytes, 0xffffffff),
    tokenBytes: uint('tokenBytes', e.tokenBytes, 0xffffffff),
    attributes,
    count,
    firstTime,
    lastTime,
  };
}
