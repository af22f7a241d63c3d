import { describe, expect, it } from 'vitest';
import { AGENT_DEFAULTS, resolveOptions } from './options.js';
import type { AgentOptions } from './options.js';

describe('resolveOptions', () => {
  it('applies the documented defaults', () => {
    const o = resolveOptions({ authority: 'localhost:7443', env: {} });
    expect(o.identityTarget).toBe('localhost:7443');
    expect(o.issuerTarget).toBe('localhost:7443');
    expect(o.renewAt).toBe(0.75);
    expect(o.heartbeat).toBe(true);
    expect(o.requestedScopes).toEqual([]);
    expect(o.requestedTtlSeconds).toBe(0);
    expect(o.rpcTimeoutMs).toBe(AGENT_DEFAULTS.rpcTimeoutMs);
    expect(Object.isFrozen(AGENT_DEFAULTS)).toBe(true);
  });

  it('lets identity and issuer live apart', () => {
    const o = resolveOptions({ identity: 'id:1', issuer: 'is:2' });
    expect([o.identityTarget, o.issuerTarget]).toEqual(['id:1', 'is:2']);
  });

  it('parses requested scopes (string and structured)', () => {
    const o = resolveOptions({
      authority: 'a:1',
      requestedScopes: ['read:invoices', { action: 'approve', resource: 'payments', constraints: { amount: { max: 5000 } } }],
    });
    expect(o.requestedScopes.map((s) => s.action)).toEqual(['read', 'approve']);
  });

  it.each<[string, AgentOptions]>([
    ['no address', {}],
    ['only identity', { identity: 'a:1' }],
    ['empty authority', { authority: '' }],
    ['renewAt 1', { authority: 'a:1', renewAt: 1 }],
    ['renewAt 0', { authority: 'a:1', renewAt: 0 }],
    ['renewAt NaN', { authority: 'a:1', renewAt: Number.NaN }],
    ['ttl 0', { authority: 'a:1', requestedTtlSeconds: 0 }],
    ['ttl fractional', { authority: 'a:1', requestedTtlSeconds: 1.5 }],
    ['bad name', { authority: 'a:1', name: 'Manager!' }],
    ['bad scope', { authority: 'a:1', requestedScopes: ['not a scope'] }],
    ['empty audience', { authority: 'a:1', audience: [''] }],
    ['non-string launch token', { authority: 'a:1', launchToken: 42 as unknown as string }],
    ['bad clock', { authority: 'a:1', clock: {} as never }],
    ['bad timeout', { authority: 'a:1', rpcTimeoutMs: -1 }],
  ])('refuses %s with a TypeError', (_name, options) => {
    expect(() => resolveOptions(options)).toThrow(TypeError);
  });
});
