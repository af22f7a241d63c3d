import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus-text.js';
import { countTelemetryError } from './safe.js';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Interface to bind. Default: `127.0.0.1` (metrics are not for the open network). */
  readonly host?: string;
  /** Produces the exposition text, e.g. `metrics.renderPrometheus`. */
  readonly render: () => Promise<string>;
}

/** A running metrics endpoint. */
export interface MetricsServer {
  /** The bound port. */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serve `GET /metrics` over node:http for Prometheus to scrape. Other paths answer 404,
 * other methods 405; a failing render answers 500 without details.
 */
export function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  if (!Number.isInteger(options?.port) || options.port < 0 || options.port > 65535) {
    throw new TypeError('startMetricsServer: port must be an integer in 0..65535');
  }
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    options.render().then(
      (text) => {
        res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      () => {
        countTelemetryError();
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((res, rej) => {
            server.close((err) => (err ? rej(err) : res()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
