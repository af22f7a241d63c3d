import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { decodeJws, generateKeyPair, isBatonError, registrationMessage, signBytes } from '@baton/core';
import { launchToken, registerAgent, startOperator, workflowWithOrchestrator, type Operator } from './testing/cli-harness.js';

let op: Operator;
beforeAll(async () => {
  op = await startOperator();
  await workflowWithOrchestrator(op);
});
afterAll(() => op?.close());

const base = ['launch-token', 'create', '--key', 'orch-expense.jwk', '--workflow', 'expense', '--principal', 'user:vp@acme.example'];

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return isBatonError(err) ? err.code : String(err);
  }
}

describe('baton launch-token create', () => {
  it('prints only the token on stdout, and an agent registers with it', async () => {
    const r = await op.run([...base, '--task', 'inv-7', '--audience', 'payments', '--scope', '{"action":"approve","resource":"payments","constraints":{"amount":{"max":5000}}}']);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    expect(token).toMatch(/^blt_[A-Za-z0-9_-]{43}$/);
    // The secret never reaches stderr (the stream that ends up in logs).
    expect(r.stderr).not.toContain(token.slice(4));
    expect(r.stderr).toMatch(/single use, expires .* \(30s\)/);

    const agent = await registerAgent(op.authority.address, token);
    expect(agent.spiffeId).toMatch(/^spiffe:\/\/baton\.local\/agent\/orch-expense\/inv-7\/[A-Za-z0-9_-]{22}$/);
    const claims = decodeJws(agent.accessToken).payload;
    expect(claims).toMatchObject({ wf: 'expense', task_id: 'inv-7', principal: 'user:vp@acme.example', scope: 'approve:payments' });
    expect(claims.scopes).toEqual([{ action: 'approve', resource: 'payments', constraints: { amount: { max: 5000 } } }]);
    expect(claims.aud).toContain('payments');

    // Single use: the same token cannot register a second agent.
    const identity = createClient(IdentityService, op.authority.address);
    try {
      const key = generateKeyPair();
      const { nonce } = await identity.getChallenge({});
      const signature = signBytes(registrationMessage(nonce, token, key.rawPublicKey), key.privateKey);
      expect(await codeOf(identity.register({ launchToken: token, publicKey: key.rawPublicKey, nonce, signature }))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
    } finally {
      identity.close();
    }
  });

  it('--json gives the token with its times', async () => {
    const r = await op.run([...base, '--task', 'json-task', '--audience', 'payments', '--ttl', '10s', '--task-ttl', '10m', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const doc = r.json<{ launchToken: string; expiresAt: number; taskDeadline: number; grantedTtlSeconds: number }>();
    expect(doc.launchToken).toMatch(/^blt_/);
    expect(doc.grantedTtlSeconds).toBe(10);
    expect(doc.taskDeadline - doc.expiresAt).toBeGreaterThan(500);
    expect(doc.taskDeadline - doc.expiresAt).toBeLessThanOrEqual(600);
  });

  it.each([
    [['--task', 't', '--audience', 'payments', '--scope', 'approve:payments'], 'ERR_SCOPE_ESCALATION'],
    [['--task', 't', '--audience', 'payments', '--scope', '{"action":"approve","resource":"payments","constraints":{"amount":{"max":50000}}}'], 'ERR_SCOPE_ESCALATION'],
    [['--task', 't', '--audience', 'elsewhere'], 'ERR_SCOPE_ESCALATION'],
    [['--task', 'bad task', '--audience', 'payments'], 'ERR_ID_INVALID'],
    [['--task', 't', '--audience', 'payments', '--ttl', '31s'], 'ERR_INVALID_ARGUMENT'],
    [['--task', 't', '--audience', 'payments', '--scope', 'nope'], 'ERR_SCOPE_INVALID'],
  ])('refuses %j with %s', async (args, code) => {
    const r = await op.run([...base, ...args]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`(${code})`);
    expect(r.stderr).toMatch(/\nhint: /);
  });

  it('says to give --audience when the workflow names none', async () => {
    for (const step of [
      ['workflow', 'create', 'no-aud', '--scope', 'read:x'],
      ['orchestrator', 'keygen', '--out', 'no-aud.jwk'],
      ['orchestrator', 'add', 'orch-no-aud', '--public-key', 'no-aud.jwk', '--workflow', 'no-aud'],
    ]) {
      const s = await op.run(step);
      expect(s.code, s.stderr).toBe(0);
    }
    const r = await op.run(['launch-token', 'create', '--key', 'no-aud.jwk', '--workflow', 'no-aud', '--task', 't', '--principal', 'p']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_INVALID_ARGUMENT');
    expect(r.stderr).toMatch(/hint: .*--audience/);
  });

  it('refuses the operator key and workflows the orchestrator is not in', async () => {
    const asOperator = await op.run(['launch-token', 'create', '--key', '.baton/keys/operator.jwk', '--workflow', 'expense', '--task', 't', '--principal', 'p', '--audience', 'payments']);
    expect(asOperator.code).toBe(1);
    expect(asOperator.stderr).toContain('ERR_PERMISSION_DENIED');
    await op.run(['workflow', 'create', 'other', '--scope', 'read:x', '--audience', 'payments']);
    const elsewhere = await op.run(['launch-token', 'create', '--key', 'orch-expense.jwk', '--workflow', 'other', '--task', 't', '--principal', 'p']);
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('ERR_PERMISSION_DENIED');
  });

  it('works as a child process, and the token registers an agent', async () => {
    const r = await op.runChild([...base, '--task', 'child-task', '--audience', 'payments']);
    expect(r.code, r.stderr).toBe(0);
    const token = r.stdout.trim();
    expect(r.stderr).not.toContain(token.slice(4));
    const agent = await registerAgent(op.authority.address, token);
    expect(agent.spiffeId).toContain('/agent/orch-expense/child-task/');
    expect(await launchToken(op, 'another')).toMatch(/^blt_/);
  });
});
