import { setupMetrics, setupTracing, type MetricsHandle, type TracingHandle } from '@baton/telemetry';
import { startAuthority, type Authority } from './authority.js';
import type { AuthorityConfig } from './config.js';

/** A started authority with its process-wide telemetry. */
export interface RunningAuthority {
  readonly authority: Authority;
  /** `host:port` of `/metrics`, when enabled. */
  readonly metricsAddress: string | undefined;
  stop(): Promise<void>;
}

/**
 * Sets up tracing and metrics for this process (once, at the entry point) and starts the
 * authority. `stop()` drains in-flight calls, flushes spans and closes the store.
 */
export async function runAuthority(config: AuthorityConfig, serviceName = 'baton-authority'): Promise<RunningAuthority> {
  const tracing: TracingHandle = setupTracing({
    serviceName,
    exporter: config.tracing.exporter,
    ...(config.tracing.file ? { filePath: config.tracing.file } : {}),
  });
  let metrics: MetricsHandle | undefined;
  let metricsAddress: string | undefined;
  let stopMetrics: (() => Promise<void>) | undefined;
  if (config.metricsListen) {
    metrics = setupMetrics({ serviceName });
    const i = config.metricsListen.lastIndexOf(':');
    const srv = await metrics.startMetricsServer({ host: config.metricsListen.slice(0, i), port: Number(config.metricsListen.slice(i + 1)) });
    metricsAddress = `${config.metricsListen.slice(0, i)}:${srv.port}`;
    stopMetrics = () => srv.close();
  }
  const authority = await startAuthority(config);
  return {
    authority,
    metricsAddress,
    async stop() {
      await authority.close();
      await stopMetrics?.();
      await metrics?.shutdown();
      await tracing.shutdown();
    },
  };
}
