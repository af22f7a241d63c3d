/**
 * The agent SDK against the real identity and issuer services, in-process over gRPC on
 * port 0 with a temporary SQLite file, calling a resource server behind @baton/guard.
 */
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isBatonError, manualClock, scopeKey } from '@baton/core';
import type { ErrorCode, ManualClock } from '@baton/core';
import { createClient } from '@baton/proto';
import { AgentKey } from './agent-key.js';
import { Agent, createAgent } from './agent.js';
import type { AgentEvent } from './agent-events.js';
import { LAUNCH_TOKEN_ENV } from './launch-token.js';
import type { AgentOptions } from './options.js';
import { APPROVE_PATH, PAYMENTS_AUDIENCE, startAuthority, startPayments, until } from './testing/authority.js';
import type { TestAuthority, TestResource } from './testing/authority.js';
import { manualTimers } from './testing/manual-timers.js';
import type { ManualTimers } from './testing/manual-timers.js';

async function codeOf(p: Promise<unknown> | (() => unknown)): Promise<ErrorCode | 'no error' | 'not a BatonError'> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    return isBatonError(err) ? err.code : 'not a BatonError';
  }
  return 'no error';
}

function nextEvent(agent: Agent, type: AgentEvent['type']): Promise<AgentEvent> {
  return new Promise((resolve) => {
    const off = agent.onEvent((e) => {
      if (e.type === type) {
        off();
        resolve(e);
      }
    });
  });
}

let taskSeq = 0;
const nextTask = () => `task-${++taskSeq}`;

describe('Agent against the real authority', () => {
  let clock: ManualClock;
  let timers: ManualTimers;
  let authority: TestAuthority;
  let payments: TestResource;
  const agents: Agent[] = [];

  beforeAll(async () => {
    clock = manualClock(Date.now());
    timers = manualTimers(clock);
    authority = await startAuthority(clock);
    payments = await startPayments(authority, clock);
  });

  afterAll(async () => {
    await payments?.close();
    await authority?.close();
  });

  afterEach(async () => {
    await Promise.allSettled(agents.splice(0).map((a) => a.release()));
    vi.restoreAllMocks();
  });

  async function register(over: Partial<AgentOptions> = {}, task = nextTask()): Promise<Agent> {
    const launchToken = await authority.launchToken(task);
    const agent = await createAgent({ authority: authority.address, launchToken, clock, timers, env: {}, heartbeat: false, ...over });
    agents.push(agent);
    return agent;
  }

  function paymentsClient(agent: Agent) {
    return agent.client(payments.service, payments.address);
  }

  it('registers and calls a guarded gRPC resource, which allows it', async () => {
    const agent = await register({ name: 'intern' });
    expect(agent.spiffeId).toMatch(/^spiffe:\/\/baton\.local\/agent\/orch-1\/task-\d+\/[A-Za-z0-9_-]{22}$/);
    expect(agent.spiffeId.endsWith(`/${agent.instanceId}`)).toBe(true);
    expect(agent.audiences).toContain(PAYMENTS_AUDIENCE);
    expect(agent.scopes.map((s) => `${s.action}:${s.resource}`).sort()).toEqual(['approve:payments', 'read:invoices']);
    expect(agent.expiresAt).toBe(Math.floor(clock.now() / 1000) * 1000 + 300_000);
    expect(agent.status).toBe('active');

    const res = await paymentsClient(agent).approve({ invoice: 'inv-1', amount: 4000 });
    expect(res.approvedBy).toBe(agent.spiffeId);
    expect(res.principal).toBe('user:vp@acme.example');
    expect(payments.decisions.at(-1)).toMatchObject({ allow: true, subject: agent.spiffeId, jkt: agent.thumbprint });
  });

  it('puts a fresh single-use proof on every call', async () => {
    const agent = await register();
    const a = agent.callMetadata(APPROVE_PATH);
    const b = agent.callMetadata(APPROVE_PATH);
    expect(a.authorization).toBe(`DPoP ${agent.token()}`);
    expect(a.dpop).not.toBe(b.dpop);
    const raw = createClient(payments.service, payments.address, { tracing: false });
    try {
      await raw.approve({ invoice: 'inv-2', amount: 1 }, { metadata: { ...a } });
      // The same proof again is a replay.
      expect(await codeOf(raw.approve({ invoice: 'inv-2', amount: 1 }, { metadata: { ...a } }))).toBe('ERR_PROOF_REPLAYED');
      // A proof for another method does not open this one.
      const other = agent.callMetadata('/test.v1.Payments/Refund');
      expect(await codeOf(raw.approve({ invoice: 'inv-2', amount: 1 }, { metadata: { ...other } }))).toBe('ERR_PROOF_METHOD_MISMATCH');
      // Without any credentials the guard refuses.
      expect(await codeOf(raw.approve({ invoice: 'inv-2', amount: 1 }))).toBe('ERR_TOKEN_MISSING');
    } finally {
      raw.close();
    }
    expect(() => agent.callMetadata('Approve')).toThrow(TypeError);
  });

  it('narrows its authority at registration with requestedScopes', async () => {
    const agent = await register({
      requestedScopes: [{ action: 'approve', resource: 'payments', constraints: { amount: { max: 5000 } } }],
    });
    expect(agent.scopes).toHaveLength(1);
    const client = paymentsClient(agent);
    await expect(client.approve({ invoice: 'inv-3', amount: 4000 })).resolves.toMatchObject({ approvedBy: agent.spiffeId });
    expect(await codeOf(client.approve({ invoice: 'inv-3', amount: 6000 }))).toBe('ERR_CONSTRAINT_VIOLATED');
  });

  it('consumes the launch token from BATON_LAUNCH_TOKEN and removes it from the environment', async () => {
    process.env[LAUNCH_TOKEN_ENV] = await authority.launchToken(nextTask());
    try {
      const agent = await createAgent({ authority: authority.address, clock, timers, heartbeat: false });
      agents.push(agent);
      expect(process.env[LAUNCH_TOKEN_ENV]).toBeUndefined();
      expect(Object.keys(process.env)).not.toContain(LAUNCH_TOKEN_ENV);
      expect(agent.status).toBe('active');
      // Nothing left to register a second agent with.
      await expect(createAgent({ authority: authority.address, clock, timers, heartbeat: false })).rejects.toBeInstanceOf(TypeError);
    } finally {
      delete process.env[LAUNCH_TOKEN_ENV];
    }
  });

  it('cannot register twice with one launch token', async () => {
    const launchToken = await authority.launchToken(nextTask());
    agents.push(await createAgent({ authority: authority.address, launchToken, clock, timers, env: {}, heartbeat: false }));
    expect(await codeOf(createAgent({ authority: authority.address, launchToken, clock, timers, env: {}, heartbeat: false }))).toBe(
      'ERR_LAUNCH_TOKEN_REPLAYED',
    );
  });

  it('fails at start-up when the token lacks a required audience', async () => {
    expect(await codeOf(register({ audience: 'ledger' }))).toBe('ERR_TOKEN_AUDIENCE_INVALID');
  });

  it('renews at 75 % of the TTL: same identity, scope not widened, old token dead', async () => {
    const agent = await register();
    const before = { token: agent.token(), spiffeId: agent.spiffeId, scopes: agent.scopes.map(scopeKey).sort(), expiresAt: agent.expiresAt };
    const renewAt = timers.pending().find((t) => t.at <= before.expiresAt)!.at;
    expect(renewAt - clock.now()).toBeGreaterThanOrEqual(224_000);
    expect(renewAt - clock.now()).toBeLessThanOrEqual(225_000);

    // Move to the renewal instant and keep a proof made with the old token there.
    clock.set(renewAt);
    const oldMetadata = agent.callMetadata(APPROVE_PATH);
    const renewed = nextEvent(agent, 'renewed');
    const seqBefore = payments.feed.sequence;
    timers.runNext();
    await renewed;

    expect(agent.token()).not.toBe(before.token);
    expect(agent.spiffeId).toBe(before.spiffeId);
    expect(agent.scopes.map(scopeKey).sort()).toEqual(before.scopes);
    expect(agent.expiresAt).toBeGreaterThan(before.expiresAt);
    // The next renewal is planned from the new token.
    expect(timers.pending().some((t) => t.at > renewAt + 200_000)).toBe(true);

    // The issuer says the old token is dead...
    const intro = await authority.issuerClient.introspect({ token: before.token });
    expect(intro.active).toBe(false);
    expect(intro.inactiveCode).toBe('ERR_TOKEN_REVOKED');
    // ...and so does the guard once the revocation feed delivered it.
    await until(() => payments.feed.sequence > seqBefore);
    const raw = createClient(payments.service, payments.address, { tracing: false });
    try {
      expect(await codeOf(raw.approve({ invoice: 'inv-4', amount: 1 }, { metadata: { ...oldMetadata } }))).toBe('ERR_TOKEN_REVOKED');
    } finally {
      raw.close();
    }
    await expect(paymentsClient(agent).approve({ invoice: 'inv-4', amount: 1 })).resolves.toMatchObject({ approvedBy: agent.spiffeId });
  });

  it('renews on demand, may narrow, and refuses to widen without calling the authority', async () => {
    const agent = await register();
    const issued = agent.token();
    expect(await codeOf(agent.renew({ scopes: ['write:payments'] }))).toBe('ERR_SCOPE_ESCALATION');
    expect(agent.token()).toBe(issued);
    await agent.renew({ scopes: [{ action: 'approve', resource: 'payments', constraints: { amount: { max: 100 } } }] });
    expect(agent.token()).not.toBe(issued);
    expect(agent.scopes).toHaveLength(1);
    expect(await codeOf(paymentsClient(agent).approve({ invoice: 'inv-5', amount: 101 }))).toBe('ERR_CONSTRAINT_VIOLATED');
    // Narrowed for good: asking for the original ceiling again is a widening.
    expect(await codeOf(agent.renew({ scopes: ['approve:payments'] }))).toBe('ERR_SCOPE_ESCALATION');
  });

  it('release kills the token: the guard denies it with ERR_TOKEN_RELEASED', async () => {
    const agent = await register();
    const token = agent.token();
    const metadata = agent.callMetadata(APPROVE_PATH);
    const client = paymentsClient(agent);
    const seqBefore = payments.feed.sequence;

    const first = agent.release('done');
    expect(agent.release()).toBe(first); // idempotent: one release, one promise
    await first;
    await agent.release();
    await agent[Symbol.asyncDispose]();

    expect(agent.status).toBe('released');
    expect(await codeOf(() => agent.token())).toBe('ERR_TOKEN_RELEASED');
    expect(await codeOf(() => agent.callMetadata(APPROVE_PATH))).toBe('ERR_TOKEN_RELEASED');
    expect(await codeOf(client.approve({ invoice: 'inv-6', amount: 1 }))).toBe('ERR_TOKEN_RELEASED');
    expect(await codeOf(agent.fetch('http://127.0.0.1:1/x'))).toBe('ERR_TOKEN_RELEASED');
    expect(timers.pending()).toEqual([]);

    const intro = await authority.issuerClient.introspect({ token });
    expect(intro.active).toBe(false);
    expect(intro.inactiveCode).toBe('ERR_TOKEN_RELEASED');
    await until(() => payments.feed.sequence > seqBefore);
    const raw = createClient(payments.service, payments.address, { tracing: false });
    try {
      expect(await codeOf(raw.approve({ invoice: 'inv-6', amount: 1 }, { metadata: { ...metadata } }))).toBe('ERR_TOKEN_RELEASED');
    } finally {
      raw.close();
    }
  });

  it('releases at the end of an `await using` scope', async () => {
    const launchToken = await authority.launchToken(nextTask());
    let escaped: Agent;
    {
      await using agent = await createAgent({ authority: authority.address, launchToken, clock, timers, env: {}, heartbeat: false });
      escaped = agent;
      expect(agent.status).toBe('active');
    }
    expect(escaped.status).toBe('released');
  });

  it('sends heartbeats with the task state, authenticated with its token', async () => {
    const agent = await register({ heartbeat: true });
    const failures: AgentEvent[] = [];
    agent.onEvent((e) => {
      if (e.type === 'heartbeat-failed') failures.push(e);
    });
    const beat = nextEvent(agent, 'heartbeat');
    agent.setState('completing');
    expect(await beat).toEqual({ type: 'heartbeat', state: 'completing' });
    expect(agent.taskState).toBe('completing');
    // The periodic one is planned at the interval the workflow asks for (30 s).
    const hb = timers.pending().find((t) => t.at === clock.now() + 30_000);
    expect(hb).toBeDefined();
    expect(() => agent.setState('sleeping' as never)).toThrow(TypeError);
    expect(failures).toEqual([]);
  });

  it('never exposes the private key: not in JSON, inspect, or errors', async () => {
    const generate = vi.spyOn(AgentKey, 'generate');
    const agent = await register();
    const key = generate.mock.results[0]!.value as AgentKey;
    const d = key.unsafeKeyPair().privateKey.export({ format: 'jwk' }).d!;
    const pkcs8 = key.unsafeKeyPair().privateKey.export({ format: 'der', type: 'pkcs8' });
    const forms = [d, pkcs8.toString('base64'), pkcs8.toString('hex'), pkcs8.subarray(-32).toString('hex'), pkcs8.subarray(-32).toString('base64')];

    const seen: string[] = [
      JSON.stringify(agent),
      inspect(agent, { showHidden: true, depth: Infinity, getters: true }),
      String(agent),
      JSON.stringify(Object.getOwnPropertyNames(agent)),
    ];
    expect(Object.keys(agent)).toEqual([]);
    expect(JSON.parse(JSON.stringify(agent))).toMatchObject({ spiffeId: agent.spiffeId, thumbprint: agent.thumbprint, status: 'active' });
    expect(JSON.stringify(agent)).not.toContain(agent.token());
    for (const fn of [
      () => agent.renew({ scopes: ['write:payments'] }),
      () => agent.callMetadata('nope'),
      () => agent.fetch('ftp://x'),
      () => paymentsClient(agent).approve({ invoice: 'inv-7', amount: 1e9 }),
      async () => {
        await agent.release();
        agent.token();
      },
    ]) {
      try {
        await fn();
      } catch (err) {
        const e = err as Error & { detail?: string; cause?: unknown };
        seen.push(String(e.message), String(e.stack), String(e.detail), inspect(e, { depth: Infinity, showHidden: true }), JSON.stringify(e));
      }
    }
    for (const text of seen) for (const f of forms) expect(text).not.toContain(f);
  });

  it('calls HTTP resources with DPoP (agent.fetch)', async () => {
    const { createServer } = await import('node:http');
    const { createGuard, guardHttp, jwksFromIssuer } = await import('@baton/guard');
    const guard = createGuard({
      audience: PAYMENTS_AUDIENCE,
      issuer: 'spiffe://baton.local/authority',
      keys: jwksFromIssuer(authority.issuerClient, { clock }),
      clock,
    });
    const mw = guardHttp(guard, { toRequest: () => ({ action: 'read', resource: 'invoices' }) });
    const server = createServer((req, res) => {
      mw(req, res, () => {
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const agent = await register();
      const ok = await agent.fetch(`http://127.0.0.1:${port}/invoices/7?full=1`);
      expect(ok.status).toBe(200);
      expect(await ok.text()).toBe('ok');
      await expect(agent.fetch('http://127.0.0.1/x', { headers: { authorization: 'Bearer x' } })).rejects.toBeInstanceOf(TypeError);
      // Without the agent's proof the same URL is refused.
      const bare = await fetch(`http://127.0.0.1:${port}/invoices/7`, { headers: { authorization: `DPoP ${agent.token()}` } });
      expect(bare.status).toBe(401);
    } finally {
      server.close();
    }
  });
});

describe('Agent renewal limits', () => {
  it('stops at the renewal limit and reports the token expired', async () => {
    const clock = manualClock(Date.now());
    const timers = manualTimers(clock);
    const authority = await startAuthority(clock, { maxRenewals: 1 });
    try {
      const launchToken = await authority.launchToken('limited');
      const agent = await createAgent({ authority: authority.address, launchToken, clock, timers, env: {}, heartbeat: false });
      const events: AgentEvent[] = [];
      agent.onEvent((e) => events.push(e));
      try {
        const renewed = nextEvent(agent, 'renewed');
        timers.runNext();
        await renewed;
        const failed = nextEvent(agent, 'renewal-failed');
        timers.runNext();
        expect(await failed).toEqual({ type: 'renewal-failed', code: 'ERR_RENEWAL_LIMIT', retryAt: undefined });
        // Only the expiry timer is left; the token still works until then.
        expect(timers.pending().map((t) => t.at)).toEqual([agent.expiresAt]);
        expect(typeof agent.token()).toBe('string');
        timers.runNext();
        expect(agent.status).toBe('expired');
        expect(events.map((e) => e.type)).toEqual(['renewed', 'renewal-failed', 'expired']);
        expect(await codeOf(() => agent.token())).toBe('ERR_TOKEN_EXPIRED');
      } finally {
        await agent.release();
      }
    } finally {
      await authority.close();
    }
  });
});
