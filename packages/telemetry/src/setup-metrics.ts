import { metrics } from '@opentelemetry/api';
import type { Meter } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { kpisFor } from './kpis.js';
import type { Kpis } from './kpis.js';
import { startMetricsServer } from './metrics-server.js';
import type { MetricsServer } from './metrics-server.js';
import { formatPrometheus } from './prometheus-text.js';

/** A reader that only collects when asked (by a scrape). */
class PullMetricReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** Options of {@link setupMetrics}. */
export interface MetricsOptions {
  /** `service.name` of this program. Required. */
  readonly serviceName: string;
  /** Register as the global meter provider (so {@link kpis} sees it). Default: `true`. */
  readonly register?: boolean;
}

/** What {@link setupMetrics} set up. */
export interface MetricsHandle {
  readonly provider: MeterProvider;
  /** Meter for the program's own instruments. */
  readonly meter: Meter;
  /** The KPI instruments on this provider. */
  readonly kpis: Kpis;
  /** Collect now and render the Prometheus text exposition (format 0.0.4). */
  renderPrometheus(): Promise<string>;
  /** Serve `GET /metrics` (host defaults to 127.0.0.1). */
  startMetricsServer(options: { port: number; host?: string }): Promise<MetricsServer>;
  shutdown(): Promise<void>;
}

/**
 * Set up metrics once in a program's entry point: an SDK meter provider with a pull
 * reader, exposed for Prometheus.
 *
 * @example
 * ```ts
 * const m = setupMetrics({ serviceName: 'authority' });
 * await m.startMetricsServer({ port: 9464 });
 * ```
 */
export function setupMetrics(options: MetricsOptions): MetricsHandle {
  if (typeof options?.serviceName !== 'string' || options.serviceName === '') {
    throw new TypeError('setupMetrics: serviceName is required');
  }
  const reader = new PullMetricReader();
  const provider = new MeterProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    readers: [reader],
  });
  const register = options.register ?? true;
  if (register) {
    metrics.disable();
    metrics.setGlobalMeterProvider(provider);
  }
  const renderPrometheus = async (): Promise<string> => {
    const { resourceMetrics } = await reader.collect();
    return formatPrometheus(resourceMetrics);
  };
  return {
    provider,
    meter: provider.getMeter(options.serviceName),
    kpis: kpisFor(provider),
    renderPrometheus,
    startMetricsServer: (o) => startMetricsServer({ ...o, render: renderPrometheus }),
    async shutdown() {
      await provider.shutdown();
      if (register) metrics.disable();
    },
  };
}
