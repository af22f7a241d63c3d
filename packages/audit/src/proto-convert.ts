/**
 * Conversions between the gRPC messages of `baton.audit.v1` and the log's plain types.
 * Incoming values are passed to the log's own validation, never trusted here.
 */
import { BatonError, isErrorCode } from '@baton/core';
import type { MessageInitShape } from '@bufbuild/protobuf';
import {
  AppendResult_Status,
  Outcome,
  type AuditEntrySchema,
  type AuditEvent,
  type AuditEventSchema,
  type AppendResultSchema,
  type QueryFilter,
} from '@baton/proto/baton/audit/v1/audit_pb.js';
import type { AppendResult } from './audit-log.js';
import type { AuditEntry, AuditEventFields, AuditEventInput } from './event.js';
import { isAuditEventType, type AuditOutcome } from './event-types.js';
import type { LogFilter } from './log-reads.js';

const OUTCOME_TO_PROTO: Record<AuditOutcome, Outcome> = { allow: Outcome.ALLOW, deny: Outcome.DENY, info: Outcome.INFO };
const OUTCOME_FROM_PROTO = new Map<number, AuditOutcome>([
  [Outcome.ALLOW, 'allow'],
  [Outcome.DENY, 'deny'],
  [Outcome.INFO, 'info'],
]);

/** A uint64 request field as a safe integer; ERR_INVALID_ARGUMENT when out of range. */
export function safeNumber(v: bigint, name: string): number {
  if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new BatonError('ERR_INVALID_ARGUMENT', `${name} out of range`);
  return Number(v);
}

// Out-of-range int64s become NaN, which the log's validation rejects for that event only.
const num = (v: bigint): number => (v >= 0n && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : Number.NaN);

/** A received event as input to `validateEvent` (outcome UNSPECIFIED → the type's default). */
export function eventFromProto(m: AuditEvent): Record<string, unknown> {
  const outcome = m.outcome === Outcome.UNSPECIFIED ? undefined : (OUTCOME_FROM_PROTO.get(m.outcome) ?? 'invalid');
  return {
    eventId: m.eventId,
    time: num(m.time),
    type: m.type,
    source: m.source,
    ...(outcome !== undefined ? { outcome } : {}),
    agent: m.agent,
    task: m.task,
    orchestration: m.orchestration,
    workflow: m.workflow,
    principal: m.principal,
    action: m.action,
    resource: m.resource,
    reasonCode: m.reasonCode,
    reasonDetail: m.reasonDetail,
    delegationDepth: m.delegationDepth,
    chainHash: m.chainHash,
    intermediateAgents: [...m.intermediateAgents],
    traceId: m.traceId,
    spanId: m.spanId,
    requestBytes: m.requestBytes,
    tokenBytes: m.tokenBytes,
    attributes: { ...m.attributes },
    count: m.count,
    firstTime: num(m.firstTime),
    lastTime: num(m.lastTime),
  };
}

/** An event (submitted or stored) as a message. */
export function eventToProto(e: AuditEventInput | AuditEventFields): MessageInitShape<typeof AuditEventSchema> {
  return {
    eventId: e.eventId,
    time: BigInt(e.time),
    type: e.type,
    source: e.source,
    outcome: e.outcome ? OUTCOME_TO_PROTO[e.outcome] : Outcome.UNSPECIFIED,
    agent: e.agent ?? '',
    task: e.task ?? '',
    orchestration: e.orchestration ?? '',
    workflow: e.workflow ?? '',
    principal: e.principal ?? '',
    action: e.action ?? '',
    resource: e.resource ?? '',
    reasonCode: e.reasonCode ?? '',
    reasonDetail: e.reasonDetail ?? '',
    delegationDepth: e.delegationDepth ?? 0,
    chainHash: e.chainHash ?? '',
    intermediateAgents: [...(e.intermediateAgents ?? [])],
    traceId: e.traceId ?? '',
    spanId: e.spanId ?? '',
    requestBytes: e.requestBytes ?? 0,
    tokenBytes: e.tokenBytes ?? 0,
    attributes: { ...(e.attributes ?? {}) },
    count: e.count ?? 0,
    firstTime: BigInt(e.firstTime ?? 0),
    lastTime: BigInt(e.lastTime ?? 0),
  };
}

/** A stored entry as a message. */
export function entryToProto(e: AuditEntry): MessageInitShape<typeof AuditEntrySchema> {
  return { sequence: BigInt(e.sequence), event: eventToProto(e.event), prevHash: e.prevHash, eventHash: e.eventHash, loggedAt: BigInt(e.loggedAt) };
}

const STATUS: Record<AppendResult['status'], AppendResult_Status> = {
  accepted: AppendResult_Status.ACCEPTED,
  duplicate: AppendResult_Status.DUPLICATE,
  rejected: AppendResult_Status.REJECTED,
};

/** An append result as a message. */
export function appendResultToProto(r: AppendResult): MessageInitShape<typeof AppendResultSchema> {
  return { eventId: r.eventId, status: STATUS[r.status], sequence: BigInt(r.sequence), code: r.code ?? '', detail: r.detail ?? '' };
}

/** An append result from a message (client side). */
export function appendResultFromProto(m: { eventId: string; status: AppendResult_Status; sequence: bigint; code: string; detail: string }): AppendResult {
  const status = m.status === AppendResult_Status.ACCEPTED ? 'accepted' : m.status === AppendResult_Status.DUPLICATE ? 'duplicate' : 'rejected';
  // An unknown code from the server still means "rejected": keep the generic one.
  const code = m.code ? (isErrorCode(m.code) ? m.code : 'ERR_AUDIT_EVENT_INVALID') : undefined;
  return { eventId: m.eventId, status, sequence: Number(m.sequence), ...(code ? { code } : {}), ...(m.detail ? { detail: m.detail } : {}) };
}

/** Query filter from a message; ERR_INVALID_ARGUMENT on an unknown type or outcome. */
export function filterFromProto(f: QueryFilter | undefined): LogFilter {
  if (!f) return {};
  if (f.type !== '' && !isAuditEventType(f.type)) throw new BatonError('ERR_INVALID_ARGUMENT', 'unknown event type in filter');
  const outcome = f.outcome === Outcome.UNSPECIFIED ? undefined : OUTCOME_FROM_PROTO.get(f.outcome);
  if (f.outcome !== Outcome.UNSPECIFIED && !outcome) throw new BatonError('ERR_INVALID_ARGUMENT', 'unknown outcome in filter');
  const out: { -readonly [K in keyof LogFilter]: LogFilter[K] } = {};
  if (f.agent) out.agent = f.agent;
  if (f.task) out.task = f.task;
  if (f.orchestration) out.orchestration = f.orchestration;
  if (f.workflow) out.workflow = f.workflow;
  if (f.type !== '' && isAuditEventType(f.type)) out.type = f.type;
  if (outcome) out.outcome = outcome;
  if (f.traceId) out.traceId = f.traceId;
  if (f.since > 0n) out.since = safeNumber(f.since, 'since');
  if (f.until > 0n) out.until = safeNumber(f.until, 'until');
  if (f.fromSequence > 0n) out.fromSequence = safeNumber(f.fromSequence, 'from_sequence');
  return out;
}
