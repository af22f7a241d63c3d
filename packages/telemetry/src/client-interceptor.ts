import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { InterceptingCall } from '@grpc/grpc-js';
import type { Interceptor, StatusObject } from '@grpc/grpc-js';
import { metadataSetter } from './metadata-carrier.js';
import { RpcAttr, isErrorStatus, splitRpcPath } from './rpc-names.js';
import { countTelemetryError, safely } from './safe.js';

/** Instrumentation scope name of every span Baton's RPC layer creates. */
export const TRACER_NAME = '@baton/telemetry';

/** Metadata key a Baton server sets to its stable error code (read for the span only). */
const ERROR_CODE_TRAILER = 'baton-error-code';

function endClientSpan(span: Span, status: StatusObject): void {
  span.setAttribute(RpcAttr.grpcStatusCode, status.code);
  if (isErrorStatus(status.code, 'client')) {
    const code = status.metadata?.get(ERROR_CODE_TRAILER)[0];
    if (typeof code === 'string' && /^ERR_[A-Z0-9_]{1,64}$/.test(code)) span.setAttribute(RpcAttr.errorCode, code);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/**
 * A grpc-js client interceptor that wraps each call in a CLIENT span named
 * `package.Service/Method` (attributes `rpc.system`, `rpc.service`, `rpc.method`,
 * `rpc.grpc.status_code`) and injects W3C `traceparent`/`tracestate` into the request
 * metadata. It uses the global OTel API, so without an SDK it costs next to nothing;
 * failures inside telemetry are swallowed and counted, never thrown into the call.
 *
 * @example
 * ```ts
 * const client = new grpc.Client(target, creds, { interceptors: [createTracingClientInterceptor()] });
 * ```
 */
export function createTracingClientInterceptor(): Interceptor {
  return (options, nextCall) => {
    const parent = context.active();
    const span = safely<Span | undefined>(() => {
      const name = splitRpcPath(options.method_definition.path);
      return trace.getTracer(TRACER_NAME).startSpan(
        name.spanName,
        {
          kind: SpanKind.CLIENT,
          attributes: { [RpcAttr.system]: 'grpc', [RpcAttr.service]: name.service, [RpcAttr.method]: name.method },
        },
        parent,
      );
    }, undefined);
    if (!span) return new InterceptingCall(nextCall(options));
    return new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        safely(() => propagation.inject(trace.setSpan(parent, span), metadata, metadataSetter), undefined);
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            try {
              endClientSpan(span, status);
            } catch {
              countTelemetryError();
            }
            nextStatus(status);
          },
        });
      },
    });
  };
}
