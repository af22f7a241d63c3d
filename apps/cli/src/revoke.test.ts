import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchToken, registerAgent, startOperator, workflowWithOrchestrator, type Operator } from './testing/cli-harness.js';
import { payloadOf } from './testing/forge.js';
import type { TokenReport } from './token-report.js';

let op: Operator;
beforeAll(async () => {
  op = await startOperator();
  await workflowWithOrchestrator(op);
  await workflowWithOrchestrator(op, 'doomed');
});
afterAll(() => op?.close());

async function introspection(token: string): Promise<TokenReport['introspection']> {
  return (await op.run(['token', 'inspect', token, '--json'])).json<TokenReport>().introspection;
}

async function freshAgent(task: string, wf = 'expense'): Promise<string> {
  return (await registerAgent(op.authority.address, await launchToken(op, task, wf))).accessToken;
}

describe('baton revoke', () => {
  it('revokes an agent: introspection then shows the token inactive', async () => {
    const token = await freshAgent('t-agent');
    expect(await introspection(token)).toMatchObject({ active: true });
    const sub = payloadOf(token).sub as string;
    const r = await op.run(['revoke', 'agent', sub, '--reason', 'anomaly', '--note', 'odd traffic', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json<{ revoked: { level: string; target: string; reason: string; sequence: number; expiresAt: number } }>().revoked;
    expect(doc).toMatchObject({ level: 'agent', target: sub, reason: 'anomaly' });
    expect(doc.sequence).toBeGreaterThan(0);
    expect(doc.expiresAt).toBeGreaterThanOrEqual(payloadOf(token).exp as number);
    expect(await introspection(token)).toEqual({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED' });
    const human = await op.run(['token', 'inspect', token]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/✗ introspection .*\[ERR_TOKEN_REVOKED\]/);
  });

  it('revokes at every level, each covering the token it names', async () => {
    const cases: Array<[string, (t: string) => string]> = [
      ['token', (t) => payloadOf(t).jti as string],
      ['token', (t) => t], // the whole token: its jti is taken
      ['task', (t) => `${payloadOf(t).orch_id as string}/${payloadOf(t).task_id as string}`],
    ];
    let sequence = 0;
    for (const [i, [level, target]] of cases.entries()) {
      const token = await freshAgent(`t-${level}-${i}`);
      const r = await op.run(['revoke', level, target(token), '--json']);
      expect(r.code, r.stderr).toBe(0);
      const seq = r.json<{ revoked: { sequence: number; reason: string } }>().revoked;
      expect(seq.reason).toBe('manual');
      expect(seq.sequence).toBeGreaterThan(sequence);
      sequence = seq.sequence;
      expect(await introspection(token), `${level} ${i}`).toEqual({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED' });
    }
    const wfToken = await freshAgent('t-wf', 'doomed');
    const w = await op.run(['revoke', 'workflow', 'doomed']);
    expect(w.code).toBe(0);
    expect(w.stdout).toMatch(/^revoked workflow doomed \(reason manual\)/);
    expect(await introspection(wfToken)).toEqual({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED' });
    // A revocation covers only what it names.
    const bystander = await freshAgent('t-bystander');
    expect(await introspection(bystander)).toMatchObject({ active: true });
  });

  it('accepts hop and key targets', async () => {
    const hop = await op.run(['revoke', 'hop', 'A'.repeat(43), '--json']);
    expect(hop.code, hop.stderr).toBe(0);
    expect(hop.json<{ revoked: { level: string; sequence: number } }>().revoked).toMatchObject({ level: 'hop', sequence: expect.any(Number) });
    const token = await freshAgent('t-kid');
    const kid = (await op.run(['token', 'inspect', token, '--json'])).json<TokenReport>().header!.kid as string;
    const key = await op.run(['revoke', 'key', kid, '--reason', 'key-compromise']);
    expect(key.code, key.stderr).toBe(0);
    expect(await introspection(token)).toEqual({ active: false, inactiveCode: 'ERR_TOKEN_KEY_REVOKED' });
  });

  it.each([
    [['agent', 'not-a-spiffe-id'], 'ERR_INVALID_ARGUMENT'],
    [['agent', 'spiffe://baton.local/svc/x'], 'ERR_INVALID_ARGUMENT'],
    [['task', 'no-slash'], 'ERR_INVALID_ARGUMENT'],
    [['workflow', 'Bad!'], 'ERR_INVALID_ARGUMENT'],
    [['hop', 'short'], 'ERR_INVALID_ARGUMENT'],
    [['token', 'a.b.c'], 'ERR_INVALID_ARGUMENT'],
    [['workflow', 'x', '--note', 'n'.repeat(2000)], 'ERR_INVALID_ARGUMENT'],
  ])('refuses %j with %s and a hint', async (args, code) => {
    const r = await op.run(['revoke', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`(${code})`);
    expect(r.stderr).toMatch(/\nhint: /);
  });

  it('is operator-only', async () => {
    const r = await op.run(['revoke', 'workflow', 'expense', '--key', 'orch-expense.jwk']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_PERMISSION_DENIED');
    expect(await introspection(await freshAgent('t-still-fine'))).toMatchObject({ active: true });
  });

  it('works as a child process', async () => {
    const token = await freshAgent('t-child');
    const r = await op.runChild(['revoke', 'agent', payloadOf(token).sub as string]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^revoked agent spiffe:\/\/baton\.local\/agent\/orch-expense\/t-child\/\S+ \(reason manual\)/);
    expect(r.stdout).toMatch(/sequence\s+\d+/);
    expect(await introspection(token)).toEqual({ active: false, inactiveCode: 'ERR_TOKEN_REVOKED' });
  });
});
