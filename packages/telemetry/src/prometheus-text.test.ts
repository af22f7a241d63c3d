import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kpis } from './kpis.js';
import type { MetricsServer } from './metrics-server.js';
import { prometheusName } from './prometheus-text.js';
import { setupMetrics } from './setup-metrics.js';
import type { MetricsHandle } from './setup-metrics.js';

let m: MetricsHandle;
beforeAll(() => {
  m = setupMetrics({ serviceName: 'prom-test' });
});
afterAll(async () => {
  await m.shutdown();
});

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

describe('Prometheus text exposition', () => {
  it('renders a counter with HELP, TYPE, _total and escaped labels', async () => {
    const c = m.meter.createCounter('test.requests', { description: 'Requests\nwith a "newline" \\ here' });
    c.add(2, { outcome: 'deny', reason: 'ERR_TOKEN_EXPIRED' });
    c.add(1, { outcome: 'deny', reason: 'ERR_TOKEN_EXPIRED' });
    c.add(5, { path: 'a"b\\c\nd', 'bad.label-name': 'x' });
    const text = await m.renderPrometheus();
    expect(lines(text, '# HELP test_requests_total')).toEqual(['# HELP test_requests_total Requests\\nwith a "newline" \\\\ here']);
    expect(lines(text, '# TYPE test_requests_total')).toEqual(['# TYPE test_requests_total counter']);
    const samples = lines(text, 'test_requests_total{');
    expect(samples).toContain('test_requests_total{outcome="deny",reason="ERR_TOKEN_EXPIRED"} 3');
    expect(samples).toContain('test_requests_total{path="a\\"b\\\\c\\nd",bad_label_name="x"} 5');
  });

  it('renders a histogram as cumulative buckets, _sum and _count', async () => {
    const h = m.meter.createHistogram('test.latency', { unit: 's', advice: { explicitBucketBoundaries: [0.1, 1, 10] } });
    for (const v of [0.05, 0.5, 0.5, 5, 50]) h.record(v, { op: 'x' });
    const text = await m.renderPrometheus();
    expect(lines(text, '# TYPE test_latency_seconds')).toEqual(['# TYPE test_latency_seconds histogram']);
    expect(lines(text, 'test_latency_seconds')).toEqual([
      'test_latency_seconds_bucket{op="x",le="0.1"} 1',
      'test_latency_seconds_bucket{op="x",le="1"} 3',
      'test_latency_seconds_bucket{op="x",le="10"} 4',
      'test_latency_seconds_bucket{op="x",le="+Inf"} 5',
      'test_latency_seconds_sum{op="x"} 56.05',
      'test_latency_seconds_count{op="x"} 5',
    ]);
  });

  it('exposes the KPI instruments through the global kpis()', async () => {
    const k = kpis();
    expect(k).toBe(m.kpis);
    k.validationDecisions.add(1, { outcome: 'allow', reason: 'ok' });
    k.auditSpoolDepth.record(7);
    k.delegationDepth.record(3);
    const text = await m.renderPrometheus();
    expect(lines(text, 'baton_validation_decisions_total{')).toEqual(['baton_validation_decisions_total{outcome="allow",reason="ok"} 1']);
    expect(lines(text, '# TYPE baton_audit_spool_depth ')).toEqual(['# TYPE baton_audit_spool_depth gauge']);
    expect(lines(text, 'baton_audit_spool_depth ')).toEqual(['baton_audit_spool_depth 7']);
    expect(lines(text, 'baton_delegation_depth_bucket{le="3"}')).toEqual(['baton_delegation_depth_bucket{le="3"} 1']);
  });

  it.each([
    ['baton.issuance.duration', 's', false, 'baton_issuance_duration_seconds'],
    ['baton.audit.spool.depth', '{event}', false, 'baton_audit_spool_depth'],
    ['x.bytes_total', 'By', true, 'x_bytes_total_bytes_total'],
    ['9lives', '', true, '_9lives_total'],
    ['req_total', '', true, 'req_total'],
  ])('names %s (%s) as %s', (name, unit, counter, expected) => {
    expect(prometheusName(name, unit, counter)).toBe(expected);
  });
});

describe('metrics server', () => {
  let server: MetricsServer;
  beforeAll(async () => {
    server = await m.startMetricsServer({ port: 0 });
  });
  afterAll(() => server.close());

  function get(path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: server.port, path, method }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves GET /metrics in format 0.0.4', async () => {
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.type).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toContain('# TYPE baton_validation_decisions_total counter');
  });

  it.each([
    ['/', 'GET', 404],
    ['/metricsx', 'GET', 404],
    ['/metrics', 'POST', 405],
    ['/metrics', 'DELETE', 405],
  ])('%s %s answers %i', async (path, method, status) => {
    expect((await get(path, method)).status).toBe(status);
  });

  it('rejects an invalid port with TypeError', async () => {
    await expect(async () => m.startMetricsServer({ port: 70000 })).rejects.toThrow(TypeError);
  });
});
