import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchToken, registerAgent, startOperator, workflowWithOrchestrator, type Operator } from './testing/cli-harness.js';
import type { TokenReport } from './token-report.js';

let op: Operator;
beforeAll(async () => {
  op = await startOperator();
  await workflowWithOrchestrator(op);
});
afterAll(() => op?.close());

const inspect = async (token: string): Promise<TokenReport> => (await op.run(['token', 'inspect', token, '--json'])).json<TokenReport>();
const agentToken = async (task: string): Promise<string> => (await registerAgent(op.authority.address, await launchToken(op, task))).accessToken;

describe('baton keys rotate', () => {
  it('rotates: new tokens use the new kid, old tokens still verify', async () => {
    const before = await agentToken('before');
    const oldKid = (await inspect(before)).header!.kid;
    const r = await op.run(['keys', 'rotate', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rotated = r.json<{ rotated: { newKid: string; retiredKid: string; emergency: boolean } }>().rotated;
    expect(rotated).toMatchObject({ retiredKid: oldKid, emergency: false });
    expect(rotated.newKid).not.toBe(oldKid);
    expect((await inspect(await agentToken('after'))).header!.kid).toBe(rotated.newKid);
    expect(await inspect(before)).toMatchObject({ verdict: 'valid' });
  });

  it('--emergency revokes the old key at once', async () => {
    const victim = await agentToken('victim');
    const r = await op.runChild(['keys', 'rotate', '--emergency']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^rotated the signing key \(emergency\)/);
    expect(r.stdout).toMatch(/revoked: its tokens no longer verify/);
    const report = await inspect(victim);
    expect(report.verdict).toBe('invalid');
    expect(report.code).toBe('ERR_TOKEN_KEY_REVOKED');
    expect(report.introspection).toEqual({ active: false, inactiveCode: 'ERR_TOKEN_KEY_REVOKED' });
    expect(await inspect(await agentToken('survivor'))).toMatchObject({ verdict: 'valid' });
  });

  it('is operator-only', async () => {
    const r = await op.run(['keys', 'rotate', '--key', 'orch-expense.jwk', '--json']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect((JSON.parse(r.stderr) as { error: { code: string } }).error.code).toBe('ERR_PERMISSION_DENIED');
  });
});
