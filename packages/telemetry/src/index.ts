// @baton/telemetry: OpenTelemetry wiring for Baton. Libraries use only the functions that
// go through @opentelemetry/api (interceptors, runServerSpan, kpis); programs call
// setupTracing / setupMetrics once in their entry point.

// propagation over gRPC
export { TRACER_NAME, createTracingClientInterceptor } from './client-interceptor.js';
export { runServerSpan } from './server-span.js';
export type { ServerSpanScope } from './server-span.js';
export { metadataGetter, metadataSetter } from './metadata-carrier.js';
export { RpcAttr, splitRpcPath } from './rpc-names.js';
export type { RpcName } from './rpc-names.js';
export { activeTraceIds } from './active-trace.js';
export type { TraceIds } from './active-trace.js';
export { telemetryErrorCount } from './safe.js';

// tracing setup and exporters
export { setupTracing } from './setup-tracing.js';
export type { TraceExporterKind, TracingHandle, TracingOptions } from './setup-tracing.js';
export { FileSpanExporter, readSpanFile } from './file-span-exporter.js';
export { ConsoleTreeExporter } from './console-tree-exporter.js';
export { spanRecordOf } from './span-record.js';
export type { SpanRecord, SpanRecordKind } from './span-record.js';
export { renderTraceTree } from './trace-tree.js';

// metrics
export { KPI_METER_NAME, createKpis, kpis, kpisFor } from './kpis.js';
export type { DecisionAttributes, Kpis } from './kpis.js';
export { setupMetrics } from './setup-metrics.js';
export type { MetricsHandle, MetricsOptions } from './setup-metrics.js';
export { PROMETHEUS_CONTENT_TYPE, formatPrometheus, prometheusName } from './prometheus-text.js';
export { startMetricsServer } from './metrics-server.js';
export type { MetricsServer, MetricsServerOptions } from './metrics-server.js';
