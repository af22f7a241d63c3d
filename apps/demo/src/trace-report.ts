/**
 * The trace trees of the demo's steps, from the span file every process appended to.
 * Each step ran in its own trace, so one tree shows that step across every process it
 * touched (driver, authority, agents, payments, attacker).
 */
import { readSpanFile, renderTraceTree } from '@baton/telemetry';
import type { SpanRecord } from '@baton/telemetry';

/** A step and the trace it ran in. */
export interface TracedStep {
  readonly step: string;
  readonly traceId: string | null;
}

/** The spans of one trace. */
export function spansOfTrace(spans: readonly SpanRecord[], traceId: string): SpanRecord[] {
  return spans.filter((s) => s.traceId === traceId);
}

/** The services (processes) that recorded spans in a trace, sorted. */
export function servicesOfTrace(spans: readonly SpanRecord[], traceId: string): string[] {
  return [...new Set(spansOfTrace(spans, traceId).map((s) => s.service))].sort();
}

/** Renders one tree per step, each under a `── <step> ──` heading. */
export function renderStepTraces(spans: readonly SpanRecord[], steps: readonly TracedStep[]): string {
  const out: string[] = [];
  for (const { step, traceId } of steps) {
    if (!traceId) continue;
    const own = spansOfTrace(spans, traceId);
    if (own.length === 0) continue;
    out.push(`── ${step} ──`, renderTraceTree(own).trimEnd());
  }
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}

/** Reads the span file (a missing file is no spans). */
export function readSpans(spanFile: string): SpanRecord[] {
  return readSpanFile(spanFile);
}
