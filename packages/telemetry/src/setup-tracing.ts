import { createRequire } from 'node:module';
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, InMemorySpanExporter, NodeTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-node';
import type { SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { ConsoleTreeExporter } from './console-tree-exporter.js';
import { FileSpanExporter } from './file-span-exporter.js';

/** Where finished spans go. */
export type TraceExporterKind = 'memory' | 'file' | 'console-tree' | 'otlp' | 'none';

/** Options of {@link setupTracing}. */
export interface TracingOptions {
  /** `service.name` of this program, e.g. `authority`, `agent:manager`. Required. */
  readonly serviceName: string;
  /**
   * Exporter. Default: `'otlp'` when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, else `'none'`
   * (spans are still created and propagated, just not exported).
   */
  readonly exporter?: TraceExporterKind;
  /** File for the `'file'` exporter. Default: `BATON_TRACE_FILE` from the environment. */
  readonly filePath?: string;
  /** Output of the `'console-tree'` exporter. Default: write to stderr. */
  readonly write?: (text: string) => void;
  /**
   * Register as the global tracer provider, context manager (AsyncLocalStorage) and
   * W3C trace-context propagator. Default: `true`. Replaces any earlier registration.
   */
  readonly register?: boolean;
}

/** What {@link setupTracing} set up. */
export interface TracingHandle {
  readonly provider: NodeTracerProvider;
  readonly exporter: TraceExporterKind;
  /** Present with the `'memory'` exporter: the spans ended so far. */
  readonly memoryExporter?: InMemorySpanExporter;
  /** Export every ended span now. */
  forceFlush(): Promise<void>;
  /** Flush, stop the provider and (if registered) unregister the globals. */
  shutdown(): Promise<void>;
}

function defaultExporter(): TraceExporterKind {
  return process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] ? 'otlp' : 'none';
}

function otlpExporter(): SpanExporter {
  // Loaded only when chosen: the OTLP stack is large and most programs never need it.
  const require = createRequire(import.meta.url);
  const mod = require('@opentelemetry/exporter-trace-otlp-http') as typeof import('@opentelemetry/exporter-trace-otlp-http');
  return new mod.OTLPTraceExporter();
}

/**
 * Set up tracing once in a program's entry point (libraries only use `@opentelemetry/api`).
 *
 * @example
 * ```ts
 * const tracing = setupTracing({ serviceName: 'authority', exporter: 'console-tree' });
 * process.on('SIGTERM', () => void tracing.shutdown());
 * ```
 */
export function setupTracing(options: TracingOptions): TracingHandle {
  if (typeof options?.serviceName !== 'string' || options.serviceName === '') {
    throw new TypeError('setupTracing: serviceName is required');
  }
  const kind = options.exporter ?? defaultExporter();
  let memoryExporter: InMemorySpanExporter | undefined;
  const processors: SpanProcessor[] = [];
  switch (kind) {
    case 'memory':
      memoryExporter = new InMemorySpanExporter();
      processors.push(new SimpleSpanProcessor(memoryExporter));
      break;
    case 'file': {
      const path = options.filePath ?? process.env['BATON_TRACE_FILE'];
      if (!path) throw new TypeError("setupTracing: exporter 'file' needs filePath (or BATON_TRACE_FILE)");
      processors.push(new SimpleSpanProcessor(new FileSpanExporter(path)));
      break;
    }
    case 'console-tree':
      processors.push(new SimpleSpanProcessor(new ConsoleTreeExporter(options.write)));
      break;
    case 'otlp':
      processors.push(new BatchSpanProcessor(otlpExporter()));
      break;
    case 'none':
      break;
    default:
      throw new TypeError(`setupTracing: unknown exporter ${String(kind)}`);
  }
  // STACK.md trap 7: span processors go to the constructor in SDK 2.x.
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    spanProcessors: processors,
  });
  const register = options.register ?? true;
  if (register) {
    trace.disable();
    context.disable();
    propagation.disable();
    provider.register({
      contextManager: new AsyncLocalStorageContextManager(),
      propagator: new W3CTraceContextPropagator(),
    });
  }
  return {
    provider,
    exporter: kind,
    ...(memoryExporter ? { memoryExporter } : {}),
    forceFlush: () => provider.forceFlush(),
    async shutdown() {
      await provider.shutdown();
      if (register) {
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}
