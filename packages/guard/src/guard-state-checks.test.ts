import { BatonError, type ErrorCode } from '@baton/core';
import { describe, expect, it, vi } from 'vitest';
import type { RevocationView } from './plugins.js';
import { HTU, fixture } from './testing/fixtures.js';
import { approve, codeOf, setup } from './testing/guard-setup.js';

describe('guard.check: revocation, chain, high assurance, scope', () => {
  it.each<[ErrorCode]>([['ERR_TOKEN_REVOKED'], ['ERR_TOKEN_RELEASED'], ['ERR_REVOCATION_STALE'], ['ERR_TOKEN_KEY_REVOKED']])(
    'revocation view answering %s denies with that code and its explanation',
    async (code) => {
      const view: RevocationView = { check: vi.fn(() => code), explain: () => `because ${code}` };
      const { f, guard } = setup({ revocation: view });
      const token = f.mint();
      const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve });
      expect(d).toEqual({ allow: false, code, reason: `because ${code}` });
      expect(view.check).toHaveBeenCalledWith(expect.objectContaining({ jti: expect.any(String) }), { kid: f.kid });
    },
  );

  it('denies a delegated token when no chain verifier is configured', async () => {
    const { f, guard } = setup();
    const token = f.mint({ del: { ch: 'c'.repeat(43), d: 1 }, act: { sub: 'spiffe://baton.local/agent/orch-1/task-0/AAAAAAAAAAAAAAAAAAAAAA' } });
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_CHAIN_INVALID');
  });

  it('denies act without del even with a verifier', async () => {
    const { f, guard } = setup({ chain: { verify: () => ({ depth: 1, agents: [] }) } });
    const token = f.mint({ act: { sub: 'spiffe://baton.local/agent/o/t/AAAAAAAAAAAAAAAAAAAAAA' } });
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_CHAIN_INVALID');
  });

  it('runs the chain verifier and re-checks hop and agent revocations it reports', async () => {
    const parent = 'spiffe://baton.local/agent/orch-1/task-0/AAAAAAAAAAAAAAAAAAAAAA';
    const verify = vi.fn(() => ({ depth: 2, agents: [parent], hopHashes: ['h1', 'h2'], chainHash: 'ch' }));
    const revokedHops = new Set<string>();
    const view: RevocationView = { check: (_c, ctx) => (ctx?.hopHashes?.some((h) => revokedHops.has(h)) ? 'ERR_CHAIN_REVOKED' : undefined) };
    const { f, guard, decisions } = setup({ chain: { verify }, revocation: view });
    const token = f.mint({ del: { ch: 'c'.repeat(43), d: 2 } });
    const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve });
    expect(d).toMatchObject({ allow: true, depth: 2, agents: [parent] });
    expect(verify).toHaveBeenCalledWith(expect.objectContaining({ token, kid: f.kid, nowMs: f.clock.now(), leewaySeconds: 30 }));
    expect(decisions.at(-1)![1].chainHash).toBe('ch');
    revokedHops.add('h2');
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ERR_CHAIN_REVOKED');
  });

  it.each<[string, () => never | { depth: number; agents: string[] }, ErrorCode]>([
    ['a broken link', () => { throw new BatonError('ERR_CHAIN_LINK_BROKEN', 'hop 2 prev mismatch'); }, 'ERR_CHAIN_LINK_BROKEN'],
    ['an unexpected exception', () => { throw new Error('boom'); }, 'ERR_INTERNAL'],
    ['a malformed result', () => ({ depth: 0, agents: [] }), 'ERR_CHAIN_INVALID'],
  ])('a chain verifier reporting %s denies with %s', async (_n, verify, code) => {
    const { f, guard } = setup({ chain: { verify } });
    const token = f.mint({ del: { ch: 'c'.repeat(43), d: 1 } });
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe(code);
  });

  it('high-assurance routes introspect online on every request, failing closed', async () => {
    const introspect = vi.fn(async () => ({ active: true }));
    const { f, guard } = setup({ highAssurance: { introspect } });
    const token = f.mint();
    const route = { highAssurance: true };
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ALLOW');
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ALLOW');
    expect(introspect).toHaveBeenCalledTimes(2);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
    expect(introspect).toHaveBeenCalledTimes(2);

    introspect.mockResolvedValueOnce({ active: false, code: 'ERR_TOKEN_RELEASED' } as never);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ERR_TOKEN_RELEASED');
    introspect.mockResolvedValueOnce({ active: false, code: 'nonsense' } as never);
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ERR_TOKEN_REVOKED');
    introspect.mockRejectedValueOnce(new Error('issuer down'));
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route })).toBe('ERR_INTROSPECTION_FAILED');
  });

  it('a high-assurance route without an introspector fails closed', async () => {
    const { f, guard } = setup();
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve, route: { highAssurance: true } })).toBe(
      'ERR_INTROSPECTION_FAILED',
    );
  });

  it.each<[string, Record<string, unknown> | undefined, { authenticateOnly?: boolean } | undefined, ErrorCode | 'ALLOW']>([
    ['an action the token lacks', { action: 'delete', resource: 'invoice' }, undefined, 'ERR_SCOPE_DENIED'],
    ['another resource', { action: 'read', resource: 'payroll' }, undefined, 'ERR_SCOPE_DENIED'],
    ['an amount above the constraint', { action: 'approve', resource: 'invoice', attributes: { amount: 6000 } }, undefined, 'ERR_CONSTRAINT_VIOLATED'],
    ['a missing constrained attribute', { action: 'approve', resource: 'invoice' }, undefined, 'ERR_CONSTRAINT_VIOLATED'],
    ['an amount at the constraint', { action: 'approve', resource: 'invoice', attributes: { amount: 5000 } }, undefined, 'ALLOW'],
    ['no request on a normal route', undefined, undefined, 'ERR_SCOPE_DENIED'],
    ['no request on an authenticate-only route', undefined, { authenticateOnly: true }, 'ALLOW'],
  ])('scope check: %s → %s', async (_n, request, route, code) => {
    const { f, guard } = setup();
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: request as never, route })).toBe(code);
  });

  it('gives the precise reason to the decision hook, never more than code+reason on the deny', async () => {
    const { f, guard, decisions } = setup();
    const token = f.mint();
    const d = await guard.check({ token, proof: f.prove(token), htm: 'POST', htu: HTU, request: { action: 'approve', resource: 'invoice', attributes: { amount: 6000 } } });
    expect(Object.keys(d).sort()).toEqual(['allow', 'code', 'reason']);
    expect(d).toMatchObject({ allow: false, code: 'ERR_CONSTRAINT_VIOLATED' });
    expect(decisions[0]![0]).toBe(d);
    expect(decisions[0]![1].claims?.sub).toMatch(/^spiffe:/);
  });

  it('a throwing decision hook or meter does not change the decision', async () => {
    const f = fixture();
    const { guard } = setup(
      {
        onDecision: () => {
          throw new Error('audit down');
        },
        meter: {
          recordDecision: () => {
            throw new Error('metrics down');
          },
        },
      },
      f,
    );
    const token = f.mint();
    expect(await codeOf(guard, { token, proof: f.prove(token), htm: 'POST', htu: HTU, request: approve })).toBe('ALLOW');
  });
});
