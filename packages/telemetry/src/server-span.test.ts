import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Metadata } from '@grpc/grpc-js';
import { runServerSpan } from './server-span.js';
import { setupTracing } from './setup-tracing.js';
import type { TracingHandle } from './setup-tracing.js';

let tracing: TracingHandle;
beforeAll(() => {
  tracing = setupTracing({ serviceName: 'svc-test', exporter: 'memory' });
});
afterAll(async () => {
  await tracing.shutdown();
});
beforeEach(() => tracing.memoryExporter!.reset());

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

function md(entries: Record<string, string | string[]>): Metadata {
  const m = new Metadata();
  for (const [k, v] of Object.entries(entries)) for (const x of Array.isArray(v) ? v : [v]) m.add(k, x);
  return m;
}

class FakeBatonError extends Error {
  override readonly name = 'BatonError';
  constructor(readonly code: string, readonly detail: string) {
    super('Generic title');
  }
}

describe('runServerSpan', () => {
  it('continues the caller trace and makes the SERVER span active for the handler', async () => {
    let activeTrace: string | undefined;
    const result = await runServerSpan(
      '/baton.issuer.v1.IssuerService/Renew',
      md({ traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=abc' }),
      async (scope) => {
        activeTrace = trace.getActiveSpan()?.spanContext().traceId;
        expect(scope.traceId).toBe(TRACE_ID);
        scope.setStatus(0);
        return 42;
      },
    );
    expect(result).toBe(42);
    const [span] = tracing.memoryExporter!.getFinishedSpans();
    expect(span).toBeDefined();
    expect(activeTrace).toBe(TRACE_ID);
    expect(span!.name).toBe('baton.issuer.v1.IssuerService/Renew');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.spanContext().traceId).toBe(TRACE_ID);
    expect(span!.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(span!.spanContext().traceState?.get('vendor')).toBe('abc');
    expect(span!.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.service': 'baton.issuer.v1.IssuerService',
      'rpc.method': 'Renew',
      'rpc.grpc.status_code': 0,
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  const malformed: Array<[string, Record<string, string | string[]>]> = [
    ['empty', { traceparent: '' }],
    ['garbage', { traceparent: 'not-a-traceparent' }],
    ['all-zero trace id', { traceparent: `00-${'0'.repeat(32)}-${PARENT_ID}-01` }],
    ['all-zero span id', { traceparent: `00-${TRACE_ID}-${'0'.repeat(16)}-01` }],
    ['version ff', { traceparent: `ff-${TRACE_ID}-${PARENT_ID}-01` }],
    ['uppercase hex', { traceparent: `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01` }],
    ['short trace id', { traceparent: `00-${TRACE_ID.slice(2)}-${PARENT_ID}-01` }],
    ['huge value', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01${'x'.repeat(20_000)}` }],
    ['version 00 with trailing data', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01-extra` }],
    ['first of two values malformed', { traceparent: ['junk', `00-${TRACE_ID}-${PARENT_ID}-01`] }],
    ['non-hex flags', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-zz` }],
    ['bad tracestate only', { tracestate: '===,,,' }],
  ];
  it.each(malformed)('ignores a malformed header safely (%s): new root trace', async (_name, headers) => {
    let ran = false;
    await runServerSpan('/pkg.Svc/Call', md(headers), async (scope) => {
      ran = true;
      scope.setStatus(0);
    });
    expect(ran).toBe(true);
    const [span] = tracing.memoryExporter!.getFinishedSpans();
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.spanContext().traceId).not.toBe(TRACE_ID);
    expect(trace.isSpanContextValid(span!.spanContext())).toBe(true);
  });

  it('records a Baton error code without its detail, and no exception event', async () => {
    await expect(
      runServerSpan('/pkg.Svc/Call', md({}), async (scope) => {
        const err = new FakeBatonError('ERR_TOKEN_EXPIRED', 'secret detail');
        scope.setStatus(16, err);
        throw err;
      }),
    ).rejects.toThrow('Generic title');
    const [span] = tracing.memoryExporter!.getFinishedSpans();
    expect(span!.attributes['baton.error.code']).toBe('ERR_TOKEN_EXPIRED');
    expect(span!.attributes['rpc.grpc.status_code']).toBe(16);
    // UNAUTHENTICATED is the caller's fault: not a server error.
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
    expect(JSON.stringify(span!.events)).not.toContain('secret detail');
  });

  it('marks INTERNAL as an error and records the exception', async () => {
    await runServerSpan('/pkg.Svc/Call', md({}), async (scope) => {
      scope.setStatus(13, new Error('db down'));
    });
    const [span] = tracing.memoryExporter!.getFinishedSpans();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.events.map((e) => e.name)).toContain('exception');
  });

  it('ends as UNKNOWN when the handler throws without reporting a status', async () => {
    await expect(
      runServerSpan('/pkg.Svc/Call', md({}), () => {
        throw new Error('sync throw');
      }),
    ).rejects.toThrow('sync throw');
    const [span] = tracing.memoryExporter!.getFinishedSpans();
    expect(span!.attributes['rpc.grpc.status_code']).toBe(2);
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
  });
});
