import { appendFileSync, readFileSync } from 'node:fs';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { asSpanRecord, spanRecordOf } from './span-record.js';
import type { SpanRecord } from './span-record.js';

/**
 * Appends one JSON {@link SpanRecord} per line to a file, so several processes (a demo,
 * a multi-process test) can write to the same file and the spans be gathered afterwards
 * with {@link readSpanFile}. Each export is one `write` in append mode, so lines from
 * different processes do not interleave.
 */
export class FileSpanExporter implements SpanExporter {
  constructor(private readonly path: string) {}

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    try {
      let text = '';
      for (const s of spans) text += `${JSON.stringify(spanRecordOf(s))}\n`;
      if (text) appendFileSync(this.path, text);
      resultCallback({ code: ExportResultCode.SUCCESS });
    } catch (err) {
      resultCallback({ code: ExportResultCode.FAILED, error: err instanceof Error ? err : new Error('span file write failed') });
    }
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Read the spans a {@link FileSpanExporter} wrote. Lines that are not valid span records
 * (e.g. a line cut short by a crashed process) are skipped. A missing file reads as no spans.
 */
export function readSpanFile(path: string): SpanRecord[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: SpanRecord[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      continue;
    }
    const rec = asSpanRecord(parsed);
    if (rec) out.push(rec);
  }
  return out;
}
