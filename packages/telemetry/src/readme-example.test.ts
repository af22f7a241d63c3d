/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 */
import { describe, expect, it } from 'vitest';

// #region readme
import { trace } from '@opentelemetry/api';
import { renderTraceTree, setupTracing, spanRecordOf } from '@baton/telemetry';

// Once, in the program's entry point: 'console-tree' for demos, 'otlp' when
// OTEL_EXPORTER_OTLP_ENDPOINT is set, 'memory' in tests.
const tracing = setupTracing({ serviceName: 'payments', exporter: 'memory' });

// Libraries use only @opentelemetry/api; Baton's gRPC interceptors carry the context across processes.
const tracer = trace.getTracer('payments');
await tracer.startActiveSpan('approve invoice', async (span) => {
  tracer.startSpan('baton.guard.check').end();
  span.end();
});
const tree = renderTraceTree(tracing.memoryExporter!.getFinishedSpans().map(spanRecordOf));
await tracing.shutdown();
// #endregion

describe('README example: tracing set up once, rendered as a tree', () => {
  it('renders the child span under its parent, in one trace', () => {
    const lines = tree.split('\n').filter((l) => l.trim() !== '');
    const parent = lines.findIndex((l) => l.includes('approve invoice'));
    const child = lines.findIndex((l) => l.includes('baton.guard.check'));
    expect(parent).toBeGreaterThanOrEqual(0);
    expect(child).toBeGreaterThan(parent);
    // The child is drawn indented below the parent.
    expect(lines[child]!.indexOf('baton.guard.check')).toBeGreaterThan(lines[parent]!.indexOf('approve invoice'));
  });
});
