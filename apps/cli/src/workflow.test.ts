import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOperator, type Operator } from './testing/cli-harness.js';

let op: Operator;
beforeAll(async () => {
  op = await startOperator();
});
afterAll(() => op?.close());

const PAY = '{"action":"approve","resource":"payments","constraints":{"amount":{"max":10000}}}';

describe('baton workflow', () => {
  it('creates a workflow with every policy flag and shows it back', async () => {
    const r = await op.run([
      'workflow', 'create', 'expense-approval', '--json',
      '--scope', PAY, '--scope', 'read:invoices:acme/*',
      '--description', 'VP approvals',
      '--default-ttl', '2m', '--max-ttl', '10m', '--max-task-ttl', '2h',
      '--max-renewals', '7', '--max-depth', '3',
      '--audience', 'payments', '--audience', 'invoices',
      '--allow-target', 'spiffe://baton.local/agent/checker/*/*',
      '--no-redelegation', '--heartbeat-interval', '15s', '--heartbeat-misses', '4',
      '--revoke-on-missed-heartbeats', '--audit-fail-closed',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const expected = {
      id: 'expense-approval',
      description: 'VP approvals',
      policy: {
        scopeCeiling: [
          { action: 'approve', resource: 'payments', constraints: { amount: { max: 10000 } } },
          { action: 'read', resource: 'invoices', id: 'acme/*' },
        ],
        defaultTokenTtlSeconds: 120,
        maxTokenTtlSeconds: 600,
        maxTaskTtlSeconds: 7200,
        maxRenewals: 7,
        maxDelegationDepth: 3,
        allowRedelegation: false,
        allowedDelegationTargets: ['spiffe://baton.local/agent/checker/*/*'],
        heartbeat: { intervalSeconds: 15, missesBeforeFlag: 4, revokeOnFlag: true },
        auditFailClosed: true,
        audiences: ['invoices', 'payments'],
      },
    };
    expect(r.json<{ workflow: unknown }>().workflow).toMatchObject(expected);

    const shown = await op.run(['workflow', 'show', 'expense-approval', '--json']);
    expect(shown.code).toBe(0);
    expect(shown.json<{ workflow: unknown }>().workflow).toMatchObject(expected);

    const human = await op.run(['workflow', 'show', 'expense-approval']);
    expect(human.stdout).toMatch(/workflow expense-approval/);
    expect(human.stdout).toMatch(/approve:payments \(amount ≤ 10000\)/);
    expect(human.stdout).toMatch(/default 2m, max 10m/);
    expect(human.stdout).toMatch(/re-delegation not allowed/);
  });

  it('applies the policy defaults when only scopes are given', async () => {
    const r = await op.run(['workflow', 'create', 'reports', '--scope', 'read:reports:*', '--json']);
    expect(r.code).toBe(0);
    expect(r.json<{ workflow: { policy: unknown } }>().workflow.policy).toMatchObject({
      defaultTokenTtlSeconds: 300,
      maxTokenTtlSeconds: 300,
      maxTaskTtlSeconds: 3600,
      maxRenewals: 100,
      maxDelegationDepth: 5,
      allowRedelegation: true,
      audiences: [],
    });
  });

  it('lists workflows, human and JSON', async () => {
    await op.run(['workflow', 'create', 'listed', '--scope', 'read:a']);
    const r = await op.run(['workflow', 'list', '--json']);
    expect(r.code).toBe(0);
    const ids = r.json<{ workflows: { id: string }[] }>().workflows.map((w) => w.id);
    expect(ids).toContain('listed');
    const human = await op.run(['workflow', 'list']);
    expect(human.stdout.split('\n')[0]).toMatch(/^ID\s+SCOPE CEILING\s+TOKEN TTL/);
    expect(human.stdout).toMatch(/^listed\s+read:a\s/m);
  });

  it.each([
    [['--scope', 'approve'], 'ERR_SCOPE_INVALID'],
    [['--scope', 'read:a:b:c'], 'ERR_SCOPE_INVALID'],
    [['--scope', '{"action":"approve","resource":"payments","constraints":{"amount":{"max":"lots"}}}'], 'ERR_SCOPE_INVALID'],
    [['--scope', '{"action":"a","action":"b","resource":"r"}'], 'ERR_JSON_INVALID'],
    [['--scope', 'read:a', '--max-ttl', 'forever'], 'ERR_INVALID_ARGUMENT'],
    [['--scope', 'read:a', '--max-depth', '9'], 'ERR_INVALID_ARGUMENT'],
    [['--scope', 'read:a', '--default-ttl', '20m', '--max-ttl', '10m'], 'ERR_POLICY_INVALID'],
    [['--scope', 'read:a', '--allow-target', 'not-a-spiffe-id'], 'ERR_POLICY_INVALID'],
  ])('refuses %j with %s, a hint, exit 1, and creates nothing', async (args, code) => {
    const r = await op.run(['workflow', 'create', 'refused', ...args]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`(${code})`);
    expect(r.stderr).toMatch(/\nhint: /);
    const show = await op.run(['workflow', 'show', 'refused']);
    expect(show.stderr).toContain('ERR_WORKFLOW_NOT_FOUND');
  });

  it('reports duplicates, unknown workflows and malformed ids by code', async () => {
    await op.run(['workflow', 'create', 'dup', '--scope', 'read:a']);
    const dup = await op.run(['workflow', 'create', 'dup', '--scope', 'read:a']);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain('ERR_WORKFLOW_EXISTS');
    const missing = await op.run(['workflow', 'show', 'missing', '--json']);
    expect(missing.code).toBe(1);
    expect((JSON.parse(missing.stderr) as { error: { code: string; hint: string } }).error).toMatchObject({ code: 'ERR_WORKFLOW_NOT_FOUND', hint: expect.stringContaining('baton workflow list') });
    const bad = await op.run(['workflow', 'show', 'Bad_Id']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ERR_ID_INVALID');
  });

  it('refuses a key that is not an operator', async () => {
    await op.run(['orchestrator', 'keygen', '--out', 'stranger.jwk']);
    const r = await op.run(['workflow', 'list', '--key', 'stranger.jwk']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_PERMISSION_DENIED');
    expect(r.stderr).toMatch(/hint: .*operators are listed in authority.json/);
  });

  it('says how to reach the authority when it is down', async () => {
    const r = await op.run(['workflow', 'list', '--authority', '127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_UNAVAILABLE');
    expect(r.stderr).toMatch(/hint: cannot reach the authority at 127\.0\.0\.1:1/);
  });

  it('works as a child process', async () => {
    const c = await op.runChild(['workflow', 'create', 'child-wf', '--scope', PAY, '--json']);
    expect(c.code, c.stderr).toBe(0);
    const l = await op.runChild(['workflow', 'list', '--json']);
    expect(l.code).toBe(0);
    expect(l.json<{ workflows: { id: string }[] }>().workflows.map((w) => w.id)).toContain('child-wf');
    const s = await op.runChild(['workflow', 'show', 'child-wf']);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/approve:payments \(amount ≤ 10000\)/);
    const bad = await op.runChild(['workflow', 'create', 'child-bad', '--scope', 'nonsense']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('ERR_SCOPE_INVALID');
  });
});
