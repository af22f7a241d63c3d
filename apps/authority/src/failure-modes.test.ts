import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BatonError, generateKeyPair, manualClock, type AuditRecord } from '@baton/core';
import { createGuard, createRevocationFeed, jwksFromIssuer, type Guard, type RevocationFeed } from '@baton/guard';
import type { Client } from '@baton/proto';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { startAuthority, type Authority } from './authority.js';
import { resolveConfig, type AuthorityConfig } from './config.js';
import { ISSUER, callResource, clientsOf, codeOf, keyEntry, launchToken, register, revokeAgent, setUpWorkflow, tempDir, type Authorities } from './testing/fixtures.js';

/** A client whose revocation stream can be cut and refused (the feed is down, the issuer is not). */
function switchable(real: Client<typeof IssuerService>) {
  const s = { down: false, open: new Set<AbortController>() };
  const client: Client<typeof IssuerService> = {
    ...real,
    watchRevocations(req, opts = {}) {
      if (s.down) throw new BatonError('ERR_UNAVAILABLE', 'feed down');
      const ac = new AbortController();
      s.open.add(ac);
      return real.watchRevocations(req, { ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal });
    },
  };
  return {
    client,
    cut() {
      s.down = true;
      for (const ac of s.open) ac.abort();
    },
    restore() {
      s.down = false;
    },
  };
}

// The issuer and identity as two authority processes (here in one test process, one
// manual clock), resource guards in front of a payments server, then parts going down.
describe('failure modes (docs/operations.md)', () => {
  const clock = manualClock(Math.floor(Date.now() / 1000) * 1000);
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  const data = tempDir('failure');
  const audit: AuditRecord[] = [];
  const sink = { emit: async (r: AuditRecord) => void audit.push(r) };
  let issuerConfig: AuthorityConfig;
  let issuerAuthority: Authority | undefined;
  let identityAuthority: Authority;
  let c: Authorities;
  let toIssuer: Authorities;
  const feeds: RevocationFeed[] = [];
  const now = () => clock.now();

  const guardOn = (revocation?: RevocationFeed): Guard =>
    createGuard({ audience: 'payments', issuer: ISSUER, keys: jwksFromIssuer(toIssuer.issuer, { clock }), clock, ...(revocation ? { revocation } : {}) });
  const feedOn = async (client: Client<typeof IssuerService>, maxStalenessMs?: number) => {
    const f = createRevocationFeed({ client, clock, idleTimeoutMs: 3_600_000, minReconnectDelayMs: 20, maxReconnectDelayMs: 200, ...(maxStalenessMs ? { maxStalenessMs } : {}) });
    feeds.push(f);
    await f.ready(10_000);
    return f;
  };

  beforeAll(async () => {
    const base = { dataDir: data.dir, operators: [keyEntry('admin', operator)] };
    // Same data directory: the two processes share the service keys, not a database.
    issuerConfig = resolveConfig({ ...base, store: 'sqlite:issuer.db', listen: '127.0.0.1:0', services: ['issuer'] }, data.dir, {});
    issuerAuthority = await startAuthority(issuerConfig, { clock, audit: sink });
    issuerConfig = { ...issuerConfig, listen: issuerAuthority.address };
    const identityConfig = resolveConfig(
      { ...base, store: 'sqlite:identity.db', listen: '127.0.0.1:0', services: ['identity'], peers: { issuer: issuerAuthority.address } },
      data.dir,
      {},
    );
    identityAuthority = await startAuthority(identityConfig, { clock, audit: sink });
    c = clientsOf(identityAuthority.address);
    toIssuer = clientsOf(issuerAuthority.address);
    await setUpWorkflow(c, operator, orchestrator, 'payments', 'orch-1', now());
  }, 30_000);

  afterAll(async () => {
    for (const f of feeds) await f.close();
    c?.close();
    toIssuer?.close();
    await identityAuthority?.close();
    await issuerAuthority?.close();
    data.rm();
  });

  it('issuer down: existing tokens keep validating on cached keys; the staleness bound decides how long; registrations fail with ERR_UNAVAILABLE', async () => {
    const agent = await register(c, await launchToken(c, orchestrator, 'payments', 'task-outage', now()));
    const strict = guardOn(await feedOn(toIssuer.issuer)); // default bound: 30 s
    const lenient = guardOn(await feedOn(toIssuer.issuer, 340_000)); // bound > token TTL + leeway
    const noFeed = guardOn();
    const guards = [strict, lenient, noFeed];
    for (const g of guards) expect(await callResource(g, agent, now())).toMatchObject({ allow: true });

    await issuerAuthority!.close();
    issuerAuthority = undefined;

    // New registrations need the issuer: a clear, retryable code.
    expect(await codeOf(register(c, await launchToken(c, orchestrator, 'payments', 'task-during', now())))).toBe('ERR_UNAVAILABLE');

    // Within the bound every guard still accepts the token it has.
    clock.advance(30_000);
    for (const g of guards) expect(await callResource(g, agent, now())).toMatchObject({ allow: true });
    // Past it, a guard with a revocation view fails closed: a revocation may be waiting.
    clock.advance(1_000);
    expect(await callResource(strict, agent, now())).toMatchObject({ allow: false, code: 'ERR_REVOCATION_STALE' });
    expect(await callResource(lenient, agent, now())).toMatchObject({ allow: true });
    expect(await callResource(noFeed, agent, now())).toMatchObject({ allow: true });
    // Until the token expires (plus leeway); no new token can have been issued meanwhile.
    const exp = Number(agent.tokenExpiresAt) * 1000;
    clock.set(exp + 29_000);
    expect(await callResource(lenient, agent, now())).toMatchObject({ allow: true });
    clock.advance(2_000);
    for (const g of guards) expect(await callResource(g, agent, now())).toMatchObject({ allow: false, code: 'ERR_TOKEN_EXPIRED' });

    // The issuer comes back on its address: registrations work, guards resync.
    issuerAuthority = await startAuthority(issuerConfig, { clock, audit: sink });
    // Identity's channel retries with backoff; each failed attempt spent its launch token.
    let after: Awaited<ReturnType<typeof register>> | undefined;
    let attempt = 0;
    await vi.waitFor(async () => void (after = await register(c, await launchToken(c, orchestrator, 'payments', `task-after-${attempt++}`, now()))), {
      timeout: 15_000,
      interval: 250,
    });
    await vi.waitFor(async () => expect(await callResource(strict, after!, now())).toMatchObject({ allow: true }), { timeout: 10_000, interval: 50 });
  }, 30_000);

  it('revocation feed down: the guard serves from its cache up to the bound, then fails closed, and catches up on return', async () => {
    const agent = await register(c, await launchToken(c, orchestrator, 'payments', 'task-feed', now()));
    const sw = switchable(toIssuer.issuer);
    const feed = await feedOn(sw.client);
    const guard = guardOn(feed);
    expect(await callResource(guard, agent, now())).toMatchObject({ allow: true });

    sw.cut();
    await revokeAgent(toIssuer, operator, agent.spiffeId, now());
    // The window the bound accepts: the revocation has not reached this guard.
    clock.advance(30_000);
    expect(await callResource(guard, agent, now())).toMatchObject({ allow: true });
    clock.advance(1_000);
    expect(await callResource(guard, agent, now())).toMatchObject({ allow: false, code: 'ERR_REVOCATION_STALE' });

    sw.restore();
    await vi.waitFor(async () => expect(await callResource(guard, agent, now())).toMatchObject({ allow: false, code: 'ERR_TOKEN_REVOKED' }), {
      timeout: 10_000,
      interval: 50,
    });
  }, 30_000);
});
