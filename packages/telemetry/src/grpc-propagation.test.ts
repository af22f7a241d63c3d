import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpanKind, context, trace } from '@opentelemetry/api';
import * as grpc from '@grpc/grpc-js';
import { createTracingClientInterceptor } from './client-interceptor.js';
import { runServerSpan } from './server-span.js';
import { setupTracing } from './setup-tracing.js';
import type { TracingHandle } from './setup-tracing.js';

// A raw-bytes echo service, so this test needs no generated code.
const identity = (b: Buffer): Buffer => b;
const definition: grpc.ServiceDefinition = {
  echo: {
    path: '/test.v1.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

let tracing: TracingHandle;
let server: grpc.Server;
let client: grpc.Client;
let seenTraceparent: string | undefined;

beforeAll(async () => {
  tracing = setupTracing({ serviceName: 'prop-test', exporter: 'memory' });
  server = new grpc.Server();
  server.addService(definition, {
    echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      seenTraceparent = call.metadata.get('traceparent')[0] as string | undefined;
      void runServerSpan(call.getPath(), call.metadata, async (scope) => {
        if (call.request.toString() === 'fail') {
          const trailer = new grpc.Metadata();
          trailer.set('baton-error-code', 'ERR_SCOPE_DENIED');
          scope.setStatus(7);
          cb({ code: 7, details: 'Permission denied', metadata: trailer });
          return;
        }
        scope.setStatus(0);
        cb(null, call.request);
      });
    },
  });
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
  );
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    interceptors: [createTracingClientInterceptor()],
  });
});

afterAll(async () => {
  client.close();
  server.forceShutdown();
  await tracing.shutdown();
});

function call(body: string): Promise<Buffer> {
  return new Promise((res, rej) =>
    client.makeUnaryRequest('/test.v1.Echo/Echo', identity, identity, Buffer.from(body), (err, value) =>
      err ? rej(err) : res(value!),
    ),
  );
}

describe('trace propagation over a real gRPC call', () => {
  it('links CLIENT and SERVER spans in one trace, under the caller span', async () => {
    tracing.memoryExporter!.reset();
    const tracer = trace.getTracer('test');
    const outer = tracer.startSpan('outer');
    await context.with(trace.setSpan(context.active(), outer), () => call('hi'));
    outer.end();
    const spans = tracing.memoryExporter!.getFinishedSpans();
    const client = spans.find((s) => s.kind === SpanKind.CLIENT)!;
    const srv = spans.find((s) => s.kind === SpanKind.SERVER)!;
    expect(client.name).toBe('test.v1.Echo/Echo');
    expect(srv.name).toBe('test.v1.Echo/Echo');
    expect(client.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(srv.spanContext().traceId).toBe(outer.spanContext().traceId);
    expect(client.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    expect(srv.parentSpanContext?.spanId).toBe(client.spanContext().spanId);
    expect(srv.parentSpanContext?.isRemote).toBe(true);
    expect(seenTraceparent).toBe(`00-${client.spanContext().traceId}-${client.spanContext().spanId}-01`);
    expect(client.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.service': 'test.v1.Echo', 'rpc.method': 'Echo', 'rpc.grpc.status_code': 0 });
  });

  it('records the status code and Baton error code on a failed call', async () => {
    tracing.memoryExporter!.reset();
    await expect(call('fail')).rejects.toMatchObject({ code: 7 });
    const client = tracing.memoryExporter!.getFinishedSpans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(client.attributes['rpc.grpc.status_code']).toBe(7);
    expect(client.attributes['baton.error.code']).toBe('ERR_SCOPE_DENIED');
    expect(client.status.code).toBe(2);
  });
});
