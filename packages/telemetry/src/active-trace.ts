import { trace } from '@opentelemetry/api';
import { safely } from './safe.js';

/** Trace and span id of the active span, for correlating audit events with traces. */
export interface TraceIds {
  readonly traceId: string;
  readonly spanId: string;
}

/** Ids of the active, valid span; undefined when nothing is being traced. Never throws. */
export function activeTraceIds(): TraceIds | undefined {
  return safely(() => {
    const sc = trace.getActiveSpan()?.spanContext();
    return sc && trace.isSpanContextValid(sc) ? { traceId: sc.traceId, spanId: sc.spanId } : undefined;
  }, undefined);
}
