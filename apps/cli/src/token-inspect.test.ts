import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair, manualClock, type Scope } from '@baton/core';
import { delegatedToken, forge, payloadOf, sibling, withPayload } from './testing/forge.js';
import { launchToken, registerAgent, startOperator, workflowWithOrchestrator, type Operator, type RegisteredAgent } from './testing/cli-harness.js';
import type { TokenReport } from './token-report.js';

let op: Operator;
let agent: RegisteredAgent;
beforeAll(async () => {
  op = await startOperator();
  await workflowWithOrchestrator(op);
  agent = await registerAgent(op.authority.address, await launchToken(op, 'inv-7'));
});
afterAll(() => op?.close());

const statusOf = (r: TokenReport, name: string): string | undefined => r.checks.find((c) => c.name === name)?.status;
const pay = (max: number): Scope[] => [{ action: 'approve', resource: 'payments', constraints: { amount: { max } } }];

describe('baton token inspect', () => {
  it('shows a valid token: claims, relative times, signature and introspection', async () => {
    const r = await op.run(['token', 'inspect', agent.accessToken]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^token \(\d+ bytes\): ✓ valid/);
    expect(r.stdout).toContain(`subject        ${agent.spiffeId}`);
    expect(r.stdout).toMatch(/scopes\s+approve:payments \(amount ≤ 10000\)/);
    expect(r.stdout).toMatch(/expires\s+\S+Z \(in (4m \d+s|5m)\)/);
    expect(r.stdout).toMatch(/issued\s+\S+Z \((now|\d+s ago)\)/);
    expect(r.stdout).toMatch(/✓ signature\s+Ed25519 signature verified/);
    expect(r.stdout).toMatch(/✓ introspection\s+active/);
    expect(r.stdout).not.toMatch(/delegation chain/);

    const j = await op.run(['token', 'inspect', agent.accessToken, '--json']);
    expect(j.code).toBe(0);
    const report = j.json<TokenReport>();
    expect(report).toMatchObject({ verdict: 'valid', code: null, kind: 'access-token', authority: op.authority.address, introspection: { active: true, sub: agent.spiffeId } });
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      ['format', 'pass'],
      ['header', 'pass'],
      ['claims', 'pass'],
      ['times', 'pass'],
      ['issuer', 'pass'],
      ['signature', 'pass'],
      ['introspection', 'pass'],
    ]);
    expect(report.claims?.sub).toBe(agent.spiffeId);
    expect(report.times?.exp?.relative).toMatch(/^in /);
  });

  it('shows a tampered token as invalid (payload and signature), exit 1', async () => {
    const widened = withPayload(agent.accessToken, { ...payloadOf(agent.accessToken), scope: 'approve:payments', scopes: undefined });
    const [h, p, s] = agent.accessToken.split('.') as [string, string, string];
    const badSig = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    for (const token of [widened, badSig]) {
      const r = await op.run(['token', 'inspect', token, '--json']);
      expect(r.code).toBe(1);
      const report = r.json<TokenReport>();
      expect(report.verdict).toBe('invalid');
      expect(report.code).toBe('ERR_TOKEN_SIGNATURE_INVALID');
      expect(report.introspection).toEqual({ active: false, inactiveCode: 'ERR_TOKEN_SIGNATURE_INVALID' });
    }
    const human = await op.run(['token', 'inspect', widened]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/✗ invalid \(ERR_TOKEN_SIGNATURE_INVALID\)/);
    expect(human.stdout).toMatch(/claims \(unverified\)/);
    expect(human.stdout).toMatch(/✗ signature .*\[ERR_TOKEN_SIGNATURE_INVALID\]/);
  });

  it('offline it decodes but cannot vouch for the signature (unverified, exit 1)', async () => {
    const r = await op.run(['token', 'inspect', agent.accessToken, '--offline', '--json']);
    expect(r.code).toBe(1);
    const report = r.json<TokenReport>();
    expect(report.verdict).toBe('unverified');
    expect(report.code).toBeNull();
    expect(statusOf(report, 'signature')).toBe('skip');
    expect(report.introspection).toBeUndefined();
  });

  it('reads the token from stdin with -, accepting an Authorization value', async () => {
    const r = await op.run(['token', 'inspect', '-', '--json'], { stdin: `DPoP ${agent.accessToken}\n` });
    expect(r.code).toBe(0);
    expect(r.json<TokenReport>().verdict).toBe('valid');
    const empty = await op.run(['token', 'inspect', '-'], { stdin: '' });
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('ERR_TOKEN_MISSING');
  });

  it('reports expiry against the injected clock', async () => {
    const later = manualClock(Date.now() + 3600_000);
    const r = await op.run(['token', 'inspect', agent.accessToken, '--json', '--offline'], { clock: later });
    expect(r.code).toBe(1);
    const report = r.json<TokenReport>();
    expect(report.code).toBe('ERR_TOKEN_EXPIRED');
    expect(report.times?.exp?.relative).toMatch(/ago$/);
  });

  const claims = (): Record<string, unknown> => payloadOf(agent.accessToken);
  it.each([
    ['garbage', (): string => 'not-a-token', 'ERR_JWS_INVALID'],
    ['alg none', (): string => forge({ alg: 'none', typ: 'at+jwt', kid: 'k' }, claims()), 'ERR_ALG_NOT_ALLOWED'],
    ['HS256', (): string => forge({ alg: 'HS256', typ: 'at+jwt', kid: 'k' }, claims()), 'ERR_ALG_NOT_ALLOWED'],
    ['typ JWT', (): string => forge({ typ: 'JWT', kid: 'k' }, claims()), 'ERR_TOKEN_TYPE_INVALID'],
    ['no kid', (): string => forge({ typ: 'at+jwt' }, claims()), 'ERR_TOKEN_MALFORMED'],
    ['claims missing', (): string => forge({ typ: 'at+jwt', kid: 'k' }, { ...claims(), cnf: undefined }), 'ERR_TOKEN_CLAIMS_INVALID'],
    ['foreign issuer', (): string => forge({ typ: 'at+jwt', kid: 'k' }, { ...claims(), iss: 'spiffe://evil.example/authority' }), 'ERR_TOKEN_ISSUER_INVALID'],
    ['unknown signing key', (): string => forge({ typ: 'at+jwt', kid: generateKeyPair().thumbprint }, claims()), 'ERR_TOKEN_KID_UNKNOWN'],
    ['launch token', (): string => 'blt_' + 'A'.repeat(43), 'ERR_TOKEN_MALFORMED'],
  ])('%s → invalid with %s', async (_name, make, code) => {
    const r = await op.run(['token', 'inspect', make(), '--json']);
    expect(r.code).toBe(1);
    const report = r.json<TokenReport>();
    expect(report.verdict).toBe('invalid');
    expect(report.code).toBe(code);
  });

  it('draws a delegation chain as a tree and verifies each hop signature', async () => {
    const root = { id: agent.spiffeId, key: agent.key };
    const b = sibling(agent.spiffeId);
    const c = sibling(agent.spiffeId);
    const token = delegatedToken(agent.accessToken, root, [b, c], [pay(5000), pay(1000)], generateKeyPair());
    const r = await op.run(['token', 'inspect', token, '--json', '--offline']);
    const report = r.json<TokenReport>();
    expect(statusOf(report, 'chain')).toBe('pass');
    expect(report.chain).toMatchObject({ source: 'hops', depth: 2, principal: 'user:vp', verified: true, problems: [] });
    expect(report.chain!.nodes.map((n) => n.agent)).toEqual([agent.spiffeId, b.id, c.id]);
    expect(report.chain!.nodes[2]!.scopes).toEqual(pay(1000));

    const human = await op.run(['token', 'inspect', token, '--offline']);
    const tree = human.stdout.slice(human.stdout.indexOf('delegation chain'));
    expect(tree).toMatch(/principal user:vp\n\s+└─ spiffe:\S+ \(root holder\)/);
    expect(tree).toContain(`└─ ${b.id}`);
    expect(tree).toMatch(new RegExp(`\\n {8}└─ ${c.id.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    expect(tree).toMatch(/approve:payments \(amount ≤ 1000\)/);
    expect(tree).toMatch(/2 hops carried in the token, verified back to the principal/);

    // Online, the outer signature is by a key the authority never published.
    const online = await op.run(['token', 'inspect', token, '--json']);
    expect(online.json<TokenReport>().code).toBe('ERR_TOKEN_KID_UNKNOWN');
  });

  it('shows a forged hop as a broken chain', async () => {
    const root = { id: agent.spiffeId, key: agent.key };
    const token = delegatedToken(agent.accessToken, root, [sibling(agent.spiffeId), sibling(agent.spiffeId)], [pay(5000), pay(1000)], generateKeyPair(), 1);
    const r = await op.run(['token', 'inspect', token, '--json', '--offline']);
    expect(r.code).toBe(1);
    const report = r.json<TokenReport>();
    expect(report.code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    expect(report.chain?.verified).toBe(false);
    // A hop that widens what its delegator held (the intern approving $50,000).
    const widened = delegatedToken(agent.accessToken, root, [sibling(agent.spiffeId), sibling(agent.spiffeId)], [pay(5000), pay(50_000)], generateKeyPair());
    const w = (await op.run(['token', 'inspect', widened, '--json', '--offline'])).json<TokenReport>();
    expect(w.code).toBe('ERR_SCOPE_ESCALATION');
    expect(w.chain?.problems[0]?.detail).toMatch(/10000|5000/);
    // The first hop forged too, and a token not bound to the last delegatee's key.
    const first = delegatedToken(agent.accessToken, root, [sibling(agent.spiffeId)], [pay(5000)], generateKeyPair(), 0);
    expect((await op.run(['token', 'inspect', first, '--json', '--offline'])).json<TokenReport>().code).toBe('ERR_CHAIN_SIGNATURE_INVALID');
    const issuer = generateKeyPair();
    const good = delegatedToken(agent.accessToken, root, [sibling(agent.spiffeId)], [pay(5000)], issuer);
    const rebound = forge({ typ: 'at+jwt', kid: issuer.thumbprint }, { ...payloadOf(good), cnf: { jkt: generateKeyPair().thumbprint } }, issuer);
    const k = (await op.run(['token', 'inspect', rebound, '--json', '--offline'])).json<TokenReport>();
    expect(k.code).toBe('ERR_CHAIN_KEY_MISMATCH');
    expect(k.chain?.nodes).toHaveLength(2);
  });

  it('works as a child process, human and JSON', async () => {
    const r = await op.runChild(['token', 'inspect', agent.accessToken]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/✓ valid/);
    const j = await op.runChild(['token', 'inspect', '-', '--json'], { stdin: agent.accessToken });
    expect(j.code).toBe(0);
    expect(j.json<TokenReport>().verdict).toBe('valid');
    const bad = await op.runChild(['token', 'inspect', withPayload(agent.accessToken, { ...payloadOf(agent.accessToken), wf: 'other' })]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/✗ invalid \(ERR_TOKEN_SIGNATURE_INVALID\)/);
  });
});
