import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateKeyPair } from '@baton/core';
import { createGuard, createRevocationFeed, jwksFromIssuer, type Guard, type RevocationFeed } from '@baton/guard';
import { openDatabase, type SqlDatabase } from '@baton/store';
import {
  ISSUER,
  callResource,
  clientsOf,
  codeOf,
  copyKeys,
  createDatabase,
  keyEntry,
  launchToken,
  register,
  revokeAgent,
  setUpWorkflow,
  startReplica,
  tempDir,
  writeConfig,
  type Authorities,
  type ReplicaProcess,
} from './testing/fixtures.js';

// Two authority replicas as real processes on one PostgreSQL database: shared signing
// keys, single-use launch tokens across replicas, revocations fanned out through
// LISTEN/NOTIFY to guards subscribed to either replica, and one audit sequence.
describe('two authority replicas sharing PostgreSQL', () => {
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  const dirs = [tempDir('replica-a'), tempDir('replica-b')];
  let database: Awaited<ReturnType<typeof createDatabase>>;
  let replicas: ReplicaProcess[] = [];
  let clients: Authorities[] = [];
  let feeds: RevocationFeed[] = [];
  let guards: Guard[] = [];
  let db: SqlDatabase;

  beforeAll(async () => {
    database = await createDatabase('replicas');
    const config = (dir: string) => ({ dataDir: dir, store: database.url, listen: '127.0.0.1:0', operators: [keyEntry('admin', operator)] });
    // The first replica makes the keys; the second gets a copy (docs/operations.md).
    replicas.push(await startReplica(writeConfig(dirs[0]!.dir, config(dirs[0]!.dir))));
    copyKeys(dirs[0]!.dir, dirs[1]!.dir);
    replicas.push(await startReplica(writeConfig(dirs[1]!.dir, config(dirs[1]!.dir))));
    clients = replicas.map((r) => clientsOf(r.address));
    // A resource server's guard on each replica.
    for (const c of clients) {
      const feed = createRevocationFeed({ client: c.issuer });
      await feed.ready(10_000);
      feeds.push(feed);
      guards.push(createGuard({ audience: 'payments', issuer: ISSUER, keys: jwksFromIssuer(c.issuer), revocation: feed }));
    }
    await setUpWorkflow(clients[0]!, operator, orchestrator, 'payments', 'orch-1');
    db = await openDatabase(database.url, { max: 2 });
  }, 60_000);

  afterAll(async () => {
    for (const f of feeds) await f.close();
    for (const c of clients) c.close();
    await Promise.all(replicas.map((r) => r.stop()));
    await db?.close();
    await database?.drop();
    for (const d of dirs) d.rm();
  }, 30_000);

  it('serve one key set: a token from either replica verifies at guards on both', async () => {
    const [a, b] = clients as [Authorities, Authorities];
    expect((await a.issuer.getKeys({})).jwks).toBe((await b.issuer.getKeys({})).jwks);
    for (const [mint, reg] of [
      [a, b],
      [b, a],
    ] as const) {
      const agent = await register(reg, await launchToken(mint, orchestrator, 'payments', `task-keys-${reg === a ? 'a' : 'b'}`));
      for (const g of guards) expect(await callResource(g, agent)).toMatchObject({ allow: true });
    }
  });

  it('a revocation on one replica is denied by guards subscribed to the other, well before a keep-alive', async () => {
    const [a, b] = clients as [Authorities, Authorities];
    for (const [on, far] of [
      [a, 1],
      [b, 0],
    ] as const) {
      const agent = await register(on, await launchToken(on, orchestrator, 'payments', `task-rev-${far}`));
      for (const g of guards) expect(await callResource(g, agent)).toMatchObject({ allow: true });
      const seq = await revokeAgent(on, operator, agent.spiffeId);
      // Keep-alives come every 5 s; this bound is only met through LISTEN/NOTIFY.
      await vi.waitFor(async () => expect(await callResource(guards[far]!, agent)).toMatchObject({ allow: false, code: 'ERR_TOKEN_REVOKED' }), {
        timeout: 2_500,
        interval: 10,
      });
      expect(feeds[far]!.sequence).toBeGreaterThanOrEqual(seq);
    }
  });

  it('one launch token, 50 concurrent registrations spread over both replicas: exactly one succeeds', async () => {
    const launch = await launchToken(clients[0]!, orchestrator, 'payments', 'task-race');
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        register(clients[i % 2]!, launch).then(
          () => 'ok',
          (err: { code?: string }) => err.code ?? 'no code',
        ),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'ok')).toEqual(Array(49).fill('ERR_LAUNCH_TOKEN_REPLAYED'));
    const agents = await db.all<{ n: number }>("SELECT COUNT(*) AS n FROM identity_agents WHERE task_id = 'task-race'");
    expect(Number(agents[0]!.n)).toBe(1);
    // And the token is spent for good, whichever replica is asked.
    for (const c of clients) expect(await codeOf(register(c, launch))).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
  }, 30_000);

  it('keeps one gap-free audit sequence with events from both replicas', async () => {
    // Registration events are written by the replica that served them; wait until both shipped.
    await vi.waitFor(
      async () => {
        const rows = await db.all<{ seq: number; type: string }>('SELECT seq, type FROM audit_entries ORDER BY seq');
        expect(rows.filter((r) => r.type === 'agent.registered').length).toBeGreaterThanOrEqual(5);
      },
      { timeout: 10_000, interval: 100 },
    );
    const rows = await db.all<{ seq: number }>('SELECT seq FROM audit_entries ORDER BY seq');
    expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
    const sources = await db.all<{ source: string }>("SELECT DISTINCT source FROM audit_entries WHERE type = 'launch_token.replayed'");
    expect(sources.length).toBeGreaterThan(0);
  });
});
