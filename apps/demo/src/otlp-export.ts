/**
 * `--otlp <url>`: sends the spans every process wrote to the span file to an
 * OpenTelemetry collector as OTLP/HTTP JSON. Forwarding from the file keeps each
 * process's exporter simple (the file also feeds the printed trees) and needs no
 * collector to be up while the scenario runs.
 */
import type { AttributeValue } from '@opentelemetry/api';
import type { SpanRecord } from '@baton/telemetry';

const KIND: Record<SpanRecord['kind'], number> = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const STATUS: Record<SpanRecord['status']['code'], number> = { UNSET: 0, OK: 1, ERROR: 2 };

type AnyValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean } | { arrayValue: { values: AnyValue[] } };

function anyValue(v: AttributeValue | null | undefined): AnyValue {
  if (Array.isArray(v)) return { arrayValue: { values: (v as unknown[]).map((x) => anyValue(x as AttributeValue)) } };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v };
  return { stringValue: String(v ?? '') };
}

/** Unix milliseconds (fractional) as an integer nanosecond string, without float overflow. */
export function msToUnixNano(ms: number): string {
  const whole = Math.floor(ms);
  const frac = Math.round((ms - whole) * 1e6);
  return (BigInt(whole) * 1_000_000n + BigInt(frac)).toString();
}

/** Span records as an OTLP `ExportTraceServiceRequest` in its JSON encoding (one resource per service). */
export function toOtlpJson(spans: readonly SpanRecord[]): { resourceSpans: unknown[] } {
  const byService = new Map<string, SpanRecord[]>();
  for (const s of spans) byService.set(s.service, [...(byService.get(s.service) ?? []), s]);
  return {
    resourceSpans: [...byService].map(([service, list]) => ({
      resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
      scopeSpans: [
        {
          scope: { name: '@baton/demo' },
          spans: list.map((s) => ({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: KIND[s.kind],
            startTimeUnixNano: msToUnixNano(s.startMs),
            endTimeUnixNano: msToUnixNano(s.endMs),
            attributes: Object.entries(s.attributes).map(([key, value]) => ({ key, value: anyValue(value) })),
            status: { code: STATUS[s.status.code] },
          })),
        },
      ],
    })),
  };
}

/** The traces endpoint under a collector URL (`/v1/traces` appended unless present). */
export function tracesEndpoint(base: URL): URL {
  if (base.pathname.endsWith('/v1/traces')) return base;
  return new URL(`${base.pathname.replace(/\/$/, '')}/v1/traces`, base);
}

/** POSTs the spans; resolves with the number sent, rejects when the collector refuses. */
export async function exportSpansOtlp(base: URL, spans: readonly SpanRecord[]): Promise<number> {
  const res = await fetch(tracesEndpoint(base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(toOtlpJson(spans)),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`collector answered HTTP ${res.status}`);
  return spans.length;
}
