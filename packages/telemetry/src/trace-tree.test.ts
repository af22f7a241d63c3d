import { mkdtempSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { ConsoleTreeExporter } from './console-tree-exporter.js';
import { readSpanFile } from './file-span-exporter.js';
import { setupTracing } from './setup-tracing.js';
import type { SpanRecord } from './span-record.js';
import { renderTraceTree } from './trace-tree.js';

const dir = mkdtempSync(join(tmpdir(), 'baton-tele-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T1 = 'a'.repeat(32);
const T2 = 'b'.repeat(32);
function rec(p: Partial<SpanRecord> & Pick<SpanRecord, 'spanId' | 'name'>): SpanRecord {
  return { traceId: T1, kind: 'INTERNAL', service: 'svc', startMs: 0, endMs: 1, status: { code: 'UNSET' }, attributes: {}, ...p };
}

/** Depth of each rendered span line (2 spaces per level, header excluded). */
function shape(text: string): Array<[number, string]> {
  return text
    .trimEnd()
    .split('\n')
    .filter((l) => !l.startsWith('trace '))
    .map((l) => [(l.length - l.trimStart().length) / 2 - 1, l.trim().split('  ')[0]!]);
}

describe('renderTraceTree', () => {
  it('renders one indented tree per trace, children under parents in start order', () => {
    const spans = [
      rec({ spanId: '0000000000000003', parentSpanId: '0000000000000001', name: 'second-child', startMs: 5, endMs: 6 }),
      rec({ spanId: '0000000000000001', name: 'root', startMs: 0, endMs: 10, service: 'agent', kind: 'CLIENT' }),
      rec({ spanId: '0000000000000002', parentSpanId: '0000000000000001', name: 'first-child', startMs: 1, endMs: 4, service: 'authority', kind: 'SERVER' }),
      rec({ spanId: '0000000000000004', parentSpanId: '0000000000000002', name: 'grandchild', startMs: 2, endMs: 3, status: { code: 'ERROR' }, attributes: { 'baton.error.code': 'ERR_TOKEN_EXPIRED' } }),
      rec({ traceId: T2, spanId: '0000000000000005', name: 'later-trace', startMs: 20, endMs: 21 }),
    ];
    const text = renderTraceTree(spans);
    const headers = text.split('\n').filter((l) => l.startsWith('trace '));
    expect(headers).toEqual([`trace ${T1}  (4 spans, 3 services, 10.0 ms)`, `trace ${T2}  (1 spans, 1 services, 1.0 ms)`]);
    expect(shape(text)).toEqual([
      [0, 'root'],
      [1, 'first-child'],
      [2, 'grandchild'],
      [1, 'second-child'],
      [0, 'later-trace'],
    ]);
    expect(text).toContain('root  CLIENT  [agent]  10.0 ms');
    expect(text).toContain('grandchild  INTERNAL  [svc]  1.0 ms  ERROR ERR_TOKEN_EXPIRED');
  });

  it('shows orphans as roots and survives parent cycles', () => {
    const spans = [
      rec({ spanId: '0000000000000001', parentSpanId: '00000000000000ff', name: 'orphan' }),
      rec({ spanId: '0000000000000002', parentSpanId: '0000000000000003', name: 'cyc-a', startMs: 2 }),
      rec({ spanId: '0000000000000003', parentSpanId: '0000000000000002', name: 'cyc-b', startMs: 3 }),
    ];
    const names = shape(renderTraceTree(spans)).map(([, n]) => n);
    expect(names.sort()).toEqual(['cyc-a', 'cyc-b', 'orphan']);
  });

  it('renders nothing for no spans', () => {
    expect(renderTraceTree([])).toBe('');
  });
});

describe('file exporter and readSpanFile', () => {
  it('writes one JSON line per span that reads back, skipping malformed lines', async () => {
    const file = join(dir, 'spans.jsonl');
    const tracing = setupTracing({ serviceName: 'file-svc', exporter: 'file', filePath: file });
    const tracer = trace.getTracer('t');
    const root = tracer.startSpan('root', { kind: SpanKind.SERVER });
    const child = tracer.startSpan('child', {}, trace.setSpan(context.active(), root));
    child.setAttribute('k', 'v');
    child.end();
    root.end();
    await tracing.shutdown();
    appendFileSync(file, '{"traceId": "cut short\n');
    appendFileSync(file, `${JSON.stringify({ traceId: 'zz', spanId: 'x' })}\n`);
    const spans = readSpanFile(file);
    expect(spans.map((s) => s.name)).toEqual(['child', 'root']);
    const [c, r] = spans;
    expect(c!.parentSpanId).toBe(r!.spanId);
    expect(c!.traceId).toBe(r!.traceId);
    expect(r!.kind).toBe('SERVER');
    expect(r!.service).toBe('file-svc');
    expect(c!.attributes).toEqual({ k: 'v' });
    expect(r!.endMs).toBeGreaterThanOrEqual(r!.startMs);
    expect(shape(renderTraceTree(spans))).toEqual([
      [0, 'root'],
      [1, 'child'],
    ]);
  });

  it('reads a missing file as no spans', () => {
    expect(readSpanFile(join(dir, 'absent.jsonl'))).toEqual([]);
  });
});

describe('console-tree exporter', () => {
  it('prints a trace when its local root ends', async () => {
    const out: string[] = [];
    const tracing = setupTracing({ serviceName: 'tree-svc', exporter: 'console-tree', write: (t) => out.push(t) });
    const tracer = trace.getTracer('t');
    const root = tracer.startSpan('root');
    tracer.startSpan('child', {}, trace.setSpan(context.active(), root)).end();
    expect(out).toEqual([]);
    root.end();
    expect(out).toHaveLength(1);
    expect(shape(out[0]!)).toEqual([
      [0, 'root'],
      [1, 'child'],
    ]);
    await tracing.shutdown();
  });

  it('flushes spans still buffered on shutdown', async () => {
    const out: string[] = [];
    const exporter = new ConsoleTreeExporter((t) => out.push(t));
    const tracing = setupTracing({ serviceName: 'tree-svc', exporter: 'memory' });
    const tracer = trace.getTracer('t');
    const root = tracer.startSpan('root');
    tracer.startSpan('orphan-child', {}, trace.setSpan(context.active(), root)).end();
    const finished = tracing.memoryExporter!.getFinishedSpans();
    exporter.export([...finished], () => {});
    expect(out).toEqual([]);
    await exporter.shutdown();
    expect(out.join('')).toContain('orphan-child');
    await tracing.shutdown();
  });
});

describe('setupTracing options', () => {
  it.each([
    ['missing service name', { serviceName: '' }],
    ['file exporter without path', { serviceName: 's', exporter: 'file' as const }],
    ['unknown exporter', { serviceName: 's', exporter: 'zipkin' as never }],
  ])('rejects %s with TypeError', (_n, opts) => {
    const saved = process.env['BATON_TRACE_FILE'];
    delete process.env['BATON_TRACE_FILE'];
    try {
      expect(() => setupTracing(opts)).toThrow(TypeError);
    } finally {
      if (saved !== undefined) process.env['BATON_TRACE_FILE'] = saved;
    }
  });

  it('chooses otlp when OTEL_EXPORTER_OTLP_ENDPOINT is set, none otherwise', async () => {
    const saved = process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
    try {
      delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
      const a = setupTracing({ serviceName: 's', register: false });
      expect(a.exporter).toBe('none');
      await a.shutdown();
      process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = 'http://127.0.0.1:1';
      const b = setupTracing({ serviceName: 's', register: false });
      expect(b.exporter).toBe('otlp');
      await b.shutdown();
    } finally {
      if (saved === undefined) delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
      else process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = saved;
    }
  });
});
