import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { spanRecordOf } from './span-record.js';
import type { SpanRecord } from './span-record.js';
import { renderTraceTree } from './trace-tree.js';

// Bound the buffer so a trace whose local root never ends cannot grow memory without limit.
const MAX_BUFFERED = 10_000;

/**
 * Prints each trace as an indented tree (see {@link renderTraceTree}) once its local root
 * span ends (a span with no parent, or whose parent is in another process). Spans still
 * buffered are printed on flush and shutdown.
 */
export class ConsoleTreeExporter implements SpanExporter {
  private readonly buffered = new Map<string, SpanRecord[]>();
  private count = 0;

  constructor(private readonly write: (text: string) => void = (t) => void process.stderr.write(t)) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      for (const span of spans) {
        const rec = spanRecordOf(span);
        const list = this.buffered.get(rec.traceId) ?? [];
        list.push(rec);
        this.buffered.set(rec.traceId, list);
        this.count++;
        const localRoot = !span.parentSpanContext || span.parentSpanContext.isRemote === true;
        if (localRoot) this.print(rec.traceId);
      }
      if (this.count > MAX_BUFFERED) this.printAll();
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error('console export failed') });
    }
  }

  private print(traceId: string): void {
    const list = this.buffered.get(traceId);
    if (!list) return;
    this.buffered.delete(traceId);
    this.count -= list.length;
    this.write(renderTraceTree(list));
  }

  private printAll(): void {
    for (const id of [...this.buffered.keys()]) this.print(id);
  }

  forceFlush(): Promise<void> {
    this.printAll();
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    this.printAll();
    return Promise.resolve();
  }
}
