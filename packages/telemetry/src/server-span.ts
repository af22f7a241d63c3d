import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Context, Span } from '@opentelemetry/api';
import type { Metadata } from '@grpc/grpc-js';
import { TRACER_NAME } from './client-interceptor.js';
import { metadataGetter } from './metadata-carrier.js';
import { RpcAttr, isErrorStatus, splitRpcPath } from './rpc-names.js';
import { countTelemetryError, safely } from './safe.js';

/** What a server handler may tell its span; every method is safe to call and never throws. */
export interface ServerSpanScope {
  /** Trace id of the server span, when one is being recorded. */
  readonly traceId: string | undefined;
  /** Record the gRPC status the call ended with, and the error behind it if any. */
  setStatus(grpcCode: number, error?: unknown): void;
}

class SpanScope implements ServerSpanScope {
  private code: number | undefined;
  private error: unknown;
  constructor(private readonly span: Span | undefined) {}

  get traceId(): string | undefined {
    return safely(() => {
      const sc = this.span?.spanContext();
      return sc && trace.isSpanContextValid(sc) && this.span!.isRecording() ? sc.traceId : undefined;
    }, undefined);
  }

  setStatus(grpcCode: number, error?: unknown): void {
    this.code = grpcCode;
    this.error = error;
  }

  finish(thrown?: unknown, didThrow = false): void {
    const span = this.span;
    if (!span) return;
    try {
      // A handler that threw without reporting a status ended the call as UNKNOWN.
      const code = this.code ?? (didThrow ? 2 : 0);
      const error = this.error ?? (didThrow ? thrown : undefined);
      span.setAttribute(RpcAttr.grpcStatusCode, code);
      const batonCode = batonCodeOf(error);
      // A Baton error is an expected outcome: record its stable code, never its detail.
      if (batonCode) span.setAttribute(RpcAttr.errorCode, batonCode);
      else if (error instanceof Error) span.recordException(error);
      if (isErrorStatus(code, 'server')) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    } catch {
      countTelemetryError();
    }
  }
}

/** The stable code of a Baton error (duck-typed so telemetry needs no dependency on core's runtime). */
function batonCodeOf(err: unknown): string | undefined {
  if (!(err instanceof Error) || err.name !== 'BatonError') return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^ERR_[A-Z0-9_]{1,64}$/.test(code) ? code : undefined;
}

const NO_SCOPE = new SpanScope(undefined);

/**
 * Run a server handler inside a SERVER span named `package.Service/Method`, continuing the
 * trace whose W3C `traceparent`/`tracestate` arrived in `metadata` (malformed headers are
 * ignored: the span then starts a new trace). The span is the active context while `fn`
 * runs and ends when its promise settles, with the status the handler reported through
 * `scope.setStatus` (or UNKNOWN if `fn` rejected without reporting one).
 *
 * @example
 * ```ts
 * await runServerSpan(call.getPath(), call.metadata, async (scope) => {
 *   try { reply(await handler(req)); scope.setStatus(0); }
 *   catch (err) { scope.setStatus(13, err); fail(err); }
 * });
 * ```
 */
export function runServerSpan<T>(fullMethod: string, metadata: Metadata, fn: (scope: ServerSpanScope) => Promise<T>): Promise<T> {
  let active: Context | undefined;
  let scope = NO_SCOPE;
  try {
    const name = splitRpcPath(fullMethod);
    const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
    const span = trace.getTracer(TRACER_NAME).startSpan(
      name.spanName,
      {
        kind: SpanKind.SERVER,
        attributes: { [RpcAttr.system]: 'grpc', [RpcAttr.service]: name.service, [RpcAttr.method]: name.method },
      },
      parent,
    );
    active = trace.setSpan(parent, span);
    scope = new SpanScope(span);
  } catch {
    countTelemetryError();
  }
  let result: Promise<T>;
  try {
    result = active ? context.with(active, fn, undefined, scope) : fn(scope);
  } catch (err) {
    result = Promise.reject(err);
  }
  if (scope === NO_SCOPE) return result;
  const s = scope;
  return result.then(
    (value) => {
      s.finish();
      return value;
    },
    (err: unknown) => {
      s.finish(err, true);
      throw err;
    },
  );
}
