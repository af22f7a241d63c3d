import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '@baton/core';
import { resolveConfig } from './config.js';
import { runAuthority, type RunningAuthority } from './run-authority.js';
import { clientsOf, codeOf, keyEntry, launchToken, register, setUpWorkflow, tempDir } from './testing/fixtures.js';

// The authority exposes the KPI instruments for Prometheus, fed by the services it hosts.
describe('authority metrics', () => {
  const data = tempDir('metrics');
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  let running: RunningAuthority | undefined;
  afterAll(async () => {
    await running?.stop();
    data.rm();
  });

  it('serves /metrics with the KPIs the services recorded', async () => {
    const config = resolveConfig(
      { listen: '127.0.0.1:0', metricsListen: '127.0.0.1:0', services: ['identity', 'issuer', 'audit'], operators: [keyEntry('op', operator)] },
      data.dir,
      {},
    );
    running = await runAuthority(config);
    expect(running.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    const c = clientsOf(running.authority.address);
    await setUpWorkflow(c, operator, orchestrator, 'metrics-flow', 'orch-m');
    const lt = await launchToken(c, orchestrator, 'metrics-flow', 'task-1');
    await register(c, lt);
    expect(await codeOf(register(c, lt))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');

    const res = await fetch(`http://${running.metricsAddress}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    const replays = /^baton_launch_token_replays(?:_total)?(?:\{[^}]*\})? (\d+)/m.exec(text);
    expect(replays?.[1]).toBe('1');
    expect(text).toMatch(/^# TYPE baton_issuance_duration\S* histogram$/m);
    expect(text).toMatch(/^baton_issuance_duration\S*_count(?:\{[^}]*\})? [1-9]/m);
  });
});
