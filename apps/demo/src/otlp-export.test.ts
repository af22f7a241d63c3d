import { describe, expect, it } from 'vitest';
import type { SpanRecord } from '@baton/telemetry';
import { msToUnixNano, toOtlpJson, tracesEndpoint } from './otlp-export.js';

const span = (over: Partial<SpanRecord>): SpanRecord => ({
  traceId: 'a'.repeat(32),
  spanId: 'b'.repeat(16),
  name: 'x',
  kind: 'SERVER',
  service: 'payments',
  startMs: 1_700_000_000_123.25,
  endMs: 1_700_000_000_124.5,
  status: { code: 'ERROR' },
  attributes: { 'baton.error.code': 'ERR_PROOF_MISSING', 'rpc.grpc.status_code': 16, ratio: 0.5, ok: false },
  ...over,
});

describe('OTLP export', () => {
  it('converts milliseconds to integer nanoseconds beyond 2^53 without float overflow', () => {
    expect(msToUnixNano(1_700_000_000_123.25)).toBe('1700000000123250000');
    expect(msToUnixNano(0)).toBe('0');
  });

  it('groups spans by service and keeps ids, parentage, kind, status and typed attributes', () => {
    const json = toOtlpJson([span({}), span({ spanId: 'c'.repeat(16), parentSpanId: 'b'.repeat(16), service: 'agent:intern', kind: 'CLIENT', status: { code: 'UNSET' } })]);
    expect(json.resourceSpans).toHaveLength(2);
    const [payments, agent] = json.resourceSpans as any[];
    expect(payments.resource.attributes).toEqual([{ key: 'service.name', value: { stringValue: 'payments' } }]);
    const s = payments.scopeSpans[0].spans[0];
    expect(s).toMatchObject({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), kind: 2, status: { code: 2 }, startTimeUnixNano: '1700000000123250000' });
    expect(s.parentSpanId).toBeUndefined();
    expect(s.attributes).toEqual([
      { key: 'baton.error.code', value: { stringValue: 'ERR_PROOF_MISSING' } },
      { key: 'rpc.grpc.status_code', value: { intValue: '16' } },
      { key: 'ratio', value: { doubleValue: 0.5 } },
      { key: 'ok', value: { boolValue: false } },
    ]);
    expect(agent.scopeSpans[0].spans[0]).toMatchObject({ parentSpanId: 'b'.repeat(16), kind: 3, status: { code: 0 } });
  });

  it.each([
    ['http://localhost:4318', 'http://localhost:4318/v1/traces'],
    ['http://localhost:4318/', 'http://localhost:4318/v1/traces'],
    ['https://collector.example/otel', 'https://collector.example/otel/v1/traces'],
    ['http://localhost:4318/v1/traces', 'http://localhost:4318/v1/traces'],
  ])('posts %s to %s', (base, want) => {
    expect(tracesEndpoint(new URL(base)).href).toBe(want);
  });
});
