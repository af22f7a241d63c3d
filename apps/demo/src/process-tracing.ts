/**
 * Tracing for the demo's processes: each one writes its spans to the shared span file
 * (`BATON_TRACE_FILE`, one JSON line per span) so the driver can print one tree per trace
 * across processes; the trace context crosses process boundaries as a W3C `traceparent`
 * (in the child's environment at spawn, and in each command afterwards).
 */
import { ROOT_CONTEXT, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import { isBatonError } from '@baton/core';
import { RpcAttr, setupTracing } from '@baton/telemetry';
import type { TracingHandle } from '@baton/telemetry';

/** Instrumentation scope of the demo's own spans. */
export const DEMO_TRACER = '@baton/demo';

/** Sets up this process's tracer: the span file when `BATON_TRACE_FILE` is set, else the default. */
export function setupProcessTracing(serviceName: string, filePath = process.env['BATON_TRACE_FILE']): TracingHandle {
  return filePath ? setupTracing({ serviceName, exporter: 'file', filePath }) : setupTracing({ serviceName });
}

/** The context a W3C `traceparent` names (the root context when absent or malformed). */
export function contextOf(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}

/** The `traceparent` of the active span, to hand to another process. */
export function currentTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier['traceparent'];
}

/** Trace id of the active span (hex), or undefined when nothing is traced. */
export function currentTraceId(): string | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? sc.traceId : undefined;
}

/** Records a stable Baton error code on a span (shown by the trace tree). */
export function recordCode(span: Span, code: string | null | undefined): void {
  if (code) span.setAttribute(RpcAttr.errorCode, code);
}

/**
 * Runs `fn` in a new active span, child of `parent` (default: the active context). The
 * span records a thrown Baton code; `root: true` starts a new trace.
 */
export async function inSpan<T>(
  name: string,
  fn: (span: Span) => Promise<T>,
  options: { parent?: Context; root?: boolean; attributes?: Record<string, string | number | boolean> } = {},
): Promise<T> {
  const tracer = trace.getTracer(DEMO_TRACER);
  const parent = options.parent ?? context.active();
  return tracer.startActiveSpan(name, { root: options.root === true, attributes: options.attributes ?? {} }, parent, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      if (isBatonError(err)) recordCode(span, err.code);
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  });
}
