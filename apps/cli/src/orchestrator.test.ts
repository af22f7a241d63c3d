import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readKeyFile } from '@baton/authority';
import { generateKeyPair } from '@baton/core';
import { startOperator, type Operator } from './testing/cli-harness.js';

let op: Operator;
beforeAll(async () => {
  op = await startOperator();
  await op.run(['workflow', 'create', 'wf-a', '--scope', 'read:a:*']);
  await op.run(['workflow', 'create', 'wf-b', '--scope', 'read:b:*']);
});
afterAll(() => op?.close());

describe('baton orchestrator keygen', () => {
  it('writes a 0600 key file, prints only the public key, and never overwrites', async () => {
    const r = await op.run(['orchestrator', 'keygen', '--out', 'keys/orch.jwk', '--json']);
    expect(r.code).toBe(0);
    const file = path.join(op.cwd, 'keys', 'orch.jwk');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const kp = readKeyFile(file);
    const doc = r.json<{ publicJwk: unknown; thumbprint: string; file: string }>();
    expect(doc).toEqual({ file, publicJwk: kp.publicJwk, thumbprint: kp.thumbprint });
    const d = (JSON.parse(fs.readFileSync(file, 'utf8')) as { d: string }).d;
    expect(r.stdout + r.stderr).not.toContain(d);

    const before = fs.readFileSync(file, 'utf8');
    const again = await op.run(['orchestrator', 'keygen', '--out', 'keys/orch.jwk']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('ERR_ALREADY_EXISTS');
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
  });
});

describe('baton orchestrator add', () => {
  it('registers a key given as its key file, for several workflows', async () => {
    await op.run(['orchestrator', 'keygen', '--out', 'o1.jwk']);
    const kp = readKeyFile(path.join(op.cwd, 'o1.jwk'));
    const r = await op.run(['orchestrator', 'add', 'orch-1', '--public-key', 'o1.jwk', '--workflow', 'wf-a', '--workflow', 'wf-b', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json()).toEqual({ orchestrator: { id: 'orch-1', thumbprint: kp.thumbprint, workflows: ['wf-a', 'wf-b'], publicJwk: kp.publicJwk } });
    // The registered key can now mint launch tokens in both workflows.
    for (const wf of ['wf-a', 'wf-b']) {
      const lt = await op.run(['launch-token', 'create', '--key', 'o1.jwk', '--workflow', wf, '--task', 't', '--principal', 'user:x', '--audience', 'svc']);
      expect(lt.code, lt.stderr).toBe(0);
    }
  });

  it('accepts a public JWK file, an inline JWK and raw base64url', async () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const c = generateKeyPair();
    fs.writeFileSync(path.join(op.cwd, 'pub.jwk'), JSON.stringify(a.publicJwk));
    const cases: Array<[string, string, string]> = [
      ['orch-file', 'pub.jwk', a.thumbprint],
      ['orch-inline', JSON.stringify(b.publicJwk), b.thumbprint],
      ['orch-raw', c.rawPublicKey.toString('base64url'), c.thumbprint],
    ];
    for (const [id, value, thumbprint] of cases) {
      const r = await op.run(['orchestrator', 'add', id, '--public-key', value, '--workflow', 'wf-a', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json<{ orchestrator: { thumbprint: string } }>().orchestrator.thumbprint).toBe(thumbprint);
    }
  });

  it.each([
    [['Bad_Id', '--public-key', 'x', '--workflow', 'wf-a'], 'ERR_ID_INVALID'],
    [['orch-x', '--public-key', 'AAAA', '--workflow', 'wf-a'], 'ERR_NOT_FOUND'],
    [['orch-x', '--public-key', '{"kty":"OKP","crv":"Ed25519","x":"short"}', '--workflow', 'wf-a'], 'ERR_KEY_INVALID'],
    [['orch-x', '--public-key', 'A'.repeat(43), '--workflow', 'wf-a'], 'ERR_KEY_INVALID'],
    [['orch-x', '--public-key', '{"kty":"RSA","n":"x","e":"AQAB"}', '--workflow', 'wf-a'], 'ERR_KEY_INVALID'],
    [['orch-x', '--public-key', 'pub.jwk', '--workflow', 'BAD'], 'ERR_ID_INVALID'],
  ])('refuses %j with %s', async (args, code) => {
    fs.writeFileSync(path.join(op.cwd, 'pub.jwk'), JSON.stringify(generateKeyPair().publicJwk));
    const r = await op.run(['orchestrator', 'add', ...args]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`(${code})`);
    expect(r.stderr).toMatch(/\nhint: /);
  });

  it('refuses a group-readable key file', async () => {
    await op.run(['orchestrator', 'keygen', '--out', 'loose.jwk']);
    fs.chmodSync(path.join(op.cwd, 'loose.jwk'), 0o644);
    const r = await op.run(['orchestrator', 'add', 'orch-loose', '--public-key', 'loose.jwk', '--workflow', 'wf-a']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_KEY_INVALID');
    expect(r.stderr).toMatch(/chmod 600/);
  });

  it('is operator-only', async () => {
    await op.run(['orchestrator', 'keygen', '--out', 'o2.jwk']);
    const r = await op.run(['orchestrator', 'add', 'orch-2', '--public-key', 'o2.jwk', '--workflow', 'wf-a', '--key', 'o2.jwk']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ERR_PERMISSION_DENIED');
  });

  it('works as a child process (keygen, then add)', async () => {
    const k = await op.runChild(['orchestrator', 'keygen', '--out', 'child.jwk']);
    expect(k.code).toBe(0);
    expect(k.stdout).toMatch(/wrote orchestrator key child\.jwk \(0600\)/);
    expect(k.stdout).toMatch(/Next: baton orchestrator add <id> --public-key child\.jwk/);
    const a = await op.runChild(['orchestrator', 'add', 'orch-child', '--public-key', 'child.jwk', '--workflow', 'wf-b']);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/added orchestrator orch-child/);
    expect(a.stdout).toContain(readKeyFile(path.join(op.cwd, 'child.jwk')).thumbprint);
  });
});
