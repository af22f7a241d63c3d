import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { AttributeValue } from '@opentelemetry/api';
import { hrTimeToMilliseconds } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';

/** Span kinds as they appear in span records. */
export type SpanRecordKind = 'INTERNAL' | 'SERVER' | 'CLIENT' | 'PRODUCER' | 'CONSUMER';

/**
 * One ended span, as the `file` exporter writes it (one JSON object per line) and as
 * {@link renderTraceTree} reads it. Times are Unix milliseconds (fractional).
 */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly kind: SpanRecordKind;
  /** `service.name` of the process that recorded the span. */
  readonly service: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly status: { readonly code: 'UNSET' | 'OK' | 'ERROR'; readonly message?: string };
  readonly attributes: Readonly<Record<string, AttributeValue>>;
}

const KINDS: Record<number, SpanRecordKind> = {
  [SpanKind.INTERNAL]: 'INTERNAL',
  [SpanKind.SERVER]: 'SERVER',
  [SpanKind.CLIENT]: 'CLIENT',
  [SpanKind.PRODUCER]: 'PRODUCER',
  [SpanKind.CONSUMER]: 'CONSUMER',
};

const STATUS: Record<number, SpanRecord['status']['code']> = {
  [SpanStatusCode.UNSET]: 'UNSET',
  [SpanStatusCode.OK]: 'OK',
  [SpanStatusCode.ERROR]: 'ERROR',
};

/** Convert an SDK span to a {@link SpanRecord}. */
export function spanRecordOf(span: ReadableSpan): SpanRecord {
  const sc = span.spanContext();
  const attributes: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(span.attributes)) if (v !== undefined) attributes[k] = v;
  const service = span.resource.attributes['service.name'];
  return {
    traceId: sc.traceId,
    spanId: sc.spanId,
    ...(span.parentSpanContext ? { parentSpanId: span.parentSpanContext.spanId } : {}),
    name: span.name,
    kind: KINDS[span.kind] ?? 'INTERNAL',
    service: typeof service === 'string' ? service : 'unknown',
    startMs: hrTimeToMilliseconds(span.startTime),
    endMs: hrTimeToMilliseconds(span.endTime),
    status: { code: STATUS[span.status.code] ?? 'UNSET', ...(span.status.message ? { message: span.status.message } : {}) },
    attributes,
  };
}

const HEX_TRACE = /^[0-9a-f]{32}$/;
const HEX_SPAN = /^[0-9a-f]{16}$/;
const KIND_SET = new Set<string>(Object.values(KINDS));
const STATUS_SET = new Set<string>(Object.values(STATUS));

/** Validate an untrusted parsed object as a {@link SpanRecord}; undefined when it is not one. */
export function asSpanRecord(value: unknown): SpanRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const status = v['status'] as Record<string, unknown> | undefined;
  if (
    typeof v['traceId'] !== 'string' || !HEX_TRACE.test(v['traceId']) ||
    typeof v['spanId'] !== 'string' || !HEX_SPAN.test(v['spanId']) ||
    (v['parentSpanId'] !== undefined && (typeof v['parentSpanId'] !== 'string' || !HEX_SPAN.test(v['parentSpanId']))) ||
    typeof v['name'] !== 'string' || typeof v['service'] !== 'string' ||
    typeof v['kind'] !== 'string' || !KIND_SET.has(v['kind']) ||
    typeof v['startMs'] !== 'number' || !Number.isFinite(v['startMs']) ||
    typeof v['endMs'] !== 'number' || !Number.isFinite(v['endMs']) ||
    typeof status !== 'object' || status === null || typeof status['code'] !== 'string' || !STATUS_SET.has(status['code']) ||
    typeof v['attributes'] !== 'object' || v['attributes'] === null || Array.isArray(v['attributes'])
  ) {
    return undefined;
  }
  return value as SpanRecord;
}
