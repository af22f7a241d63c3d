import type { Readable, Writable } from 'node:stream';
import type { DescMethod, DescService } from '@bufbuild/protobuf';
import type {
  Metadata,
  ServerDuplexStream,
  ServerReadableStream,
  ServerUnaryCall,
  ServerWritableStream,
  StatusObject,
  UntypedHandleCall,
  sendUnaryData,
} from '@grpc/grpc-js';
import { BatonError, isBatonError } from '@baton/core';
import { runServerSpan } from '@baton/telemetry';
import type { ServerSpanScope } from '@baton/telemetry';
import { ServerCallContext } from './call-context.js';
import type { SurfaceCall } from './call-context.js';
import { statusFromError } from './error-mapping.js';
import type { CallContext } from './handler-types.js';
import { DECODE_FAILURE, methodPath } from './service-definition.js';

/** Settings every wrapped handler shares. */
export interface HandlerEnv {
  readonly maxMetadataBytes: number;
  readonly tracing: boolean;
  readonly onInternalError?: ((err: unknown, ctx: CallContext) => void) | undefined;
}

type Fn = (input: unknown, ctx: CallContext) => unknown;

/** Size of metadata as HTTP/2 counts it (name + value + 32 per entry; binary values base64). */
export function metadataSize(md: Metadata): number {
  let total = 0;
  for (const [key, values] of Object.entries(md.toJSON())) {
    for (const v of values) total += key.length + 32 + (typeof v === 'string' ? v.length : Math.ceil(v.length / 3) * 4);
  }
  return total;
}

function decoded(message: unknown): unknown {
  if (message === DECODE_FAILURE) throw new BatonError('ERR_INVALID_ARGUMENT', 'request message failed to decode');
  return message;
}

async function* readRequests(stream: Readable, signal: AbortSignal): AsyncGenerator<unknown> {
  // Keep the stream open when the handler stops reading: a bidi call still writes.
  for await (const message of stream.iterator({ destroyOnReturn: false })) yield decoded(message);
  // A client cancel closes its side (END_STREAM) just before the RST_STREAM, so grpc-js
  // first reports it as a clean end of requests. Let the reset land before the handler
  // treats a possibly truncated request stream as complete.
  await new Promise((resolve) => setImmediate(resolve));
  if (signal.aborted) throw signal.reason;
}

function drained(stream: Writable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    if (signal.aborted) return resolve();
    stream.on('drain', done);
    stream.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

async function writeAll(stream: Writable, responses: AsyncIterable<unknown>, ctx: ServerCallContext): Promise<void> {
  for await (const response of responses) {
    if (ctx.cancelled) break;
    if (!stream.write(response)) await drained(stream, ctx.signal);
  }
}

/**
 * Run one call: context, span, metadata limit, the body, and mapping any failure to a
 * status in one place. `body` answers success itself; `fail` sends an error status.
 */
function runCall(
  call: SurfaceCall,
  path: string,
  service: string,
  env: HandlerEnv,
  body: (ctx: ServerCallContext) => Promise<void>,
  fail: (status: StatusObject) => void,
): void {
  const ctx = new ServerCallContext(call, path, service);
  const exec = async (scope: ServerSpanScope | undefined): Promise<void> => {
    try {
      const size = metadataSize(call.metadata);
      if (size > env.maxMetadataBytes) {
        throw new BatonError('ERR_METADATA_TOO_LARGE', `request metadata ${size} bytes exceeds ${env.maxMetadataBytes}`);
      }
      await body(ctx);
      scope?.setStatus(0);
    } catch (err) {
      if (!isBatonError(err) && !ctx.cancelled && env.onInternalError) {
        try {
          env.onInternalError(err, ctx);
        } catch {
          // A failing log hook must not change the answer.
        }
      }
      let status: StatusObject;
      try {
        status = statusFromError(err, { traceId: scope?.traceId, trailers: ctx.trailerMetadata() });
      } catch {
        status = statusFromError(new BatonError('ERR_INTERNAL', 'error mapping failed'));
      }
      scope?.setStatus(status.code, err);
      fail(status);
    } finally {
      ctx.dispose();
    }
  };
  // exec settles every outcome itself; the catch only keeps a bug from becoming an unhandled rejection.
  (env.tracing ? runServerSpan(path, call.metadata, exec) : exec(undefined)).catch(() => {});
}

/** Wrap one handler as a grpc-js handler of the right kind. */
export function wrapHandler(method: DescMethod, fn: Fn, self: object, env: HandlerEnv): UntypedHandleCall {
  const path = methodPath(method);
  const service = method.parent.typeName;
  switch (method.methodKind) {
    case 'unary':
      return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        runCall(
          call,
          path,
          service,
          env,
          async (ctx) => {
            const response = await fn.call(self, decoded(call.request), ctx);
            if (response === undefined || response === null) throw new TypeError(`${path}: handler returned no response`);
            callback(null, response, ctx.trailerMetadata());
          },
          (status) => callback(status),
        );
    case 'server_streaming':
      return (call: ServerWritableStream<unknown, unknown>) =>
        runCall(
          call,
          path,
          service,
          env,
          async (ctx) => {
            await writeAll(call, fn.call(self, decoded(call.request), ctx) as AsyncIterable<unknown>, ctx);
            call.end(ctx.trailerMetadata());
          },
          (status) => call.emit('error', status),
        );
    case 'client_streaming':
      return (call: ServerReadableStream<unknown, unknown>, callback: sendUnaryData<unknown>) =>
        runCall(
          call,
          path,
          service,
          env,
          async (ctx) => {
            const response = await fn.call(self, readRequests(call, ctx.signal), ctx);
            if (response === undefined || response === null) throw new TypeError(`${path}: handler returned no response`);
            callback(null, response, ctx.trailerMetadata());
          },
          (status) => callback(status),
        );
    case 'bidi_streaming':
      return (call: ServerDuplexStream<unknown, unknown>) =>
        runCall(
          call,
          path,
          service,
          env,
          async (ctx) => {
            await writeAll(call, fn.call(self, readRequests(call, ctx.signal), ctx) as AsyncIterable<unknown>, ctx);
            call.end(ctx.trailerMetadata());
          },
          (status) => call.emit('error', status),
        );
  }
}

/** Wrap every handler `impl` provides; grpc-js answers UNIMPLEMENTED for the rest. */
export function wrapService(service: DescService, impl: object, env: HandlerEnv): Record<string, UntypedHandleCall> {
  const out: Record<string, UntypedHandleCall> = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, unknown>)[method.localName];
    if (fn === undefined) continue;
    if (typeof fn !== 'function') throw new TypeError(`${service.typeName}.${method.name}: handler is not a function`);
    out[method.localName] = wrapHandler(method, fn as Fn, impl, env);
  }
  return out;
}
