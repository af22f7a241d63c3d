import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { BatonError, parseAccessTokenClaims, type AccessTokenClaims } from '@baton/core';
import { createRevocationFeed, type RevocationFeed } from '@baton/guard';
import type { Client } from '@baton/proto';
import { IssuerService, RevocationLevel as L, RevocationReason as R, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { startHarness, type Harness } from './testing/harness.js';

const claimsOf = (token: string): AccessTokenClaims =>
  parseAccessTokenClaims(JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>);

/** The issuer client as a guard sees it, with a switch that cuts and refuses its revocation stream. */
function switchableClient(real: Client<typeof IssuerService>) {
  const state = { down: false, open: new Set<AbortController>() };
  // The client object is frozen: build a new one with the same methods.
  const client: Client<typeof IssuerService> = {
    ...real,
    watchRevocations(req, opts = {}) {
      if (state.down) throw new BatonError('ERR_UNAVAILABLE', 'feed down');
      const ac = new AbortController();
      state.open.add(ac);
      return real.watchRevocations(req, { ...opts, signal: opts.signal ? AbortSignal.any([opts.signal, ac.signal]) : ac.signal });
    },
  };
  return {
    client,
    cut() {
      state.down = true;
      for (const ac of state.open) ac.abort();
      state.open.clear();
    },
    restore() {
      state.down = false;
    },
  };
}

// A real issuer and a real guard feed: the guard is away while the issuer writes and
// prunes entries it never saw; on return it must resync from a (reset) snapshot.
describe('a guard feed reconnecting after the issuer pruned past its resume point', () => {
  let h: Harness;
  let feed: RevocationFeed;
  let sw: ReturnType<typeof switchableClient>;
  beforeAll(async () => {
    h = await startHarness('sqlite', 'resync', { keepAliveMs: 50 });
    sw = switchableClient(h.client);
    feed = createRevocationFeed({ client: sw.client, clock: h.clock, minReconnectDelayMs: 5, maxReconnectDelayMs: 20, idleTimeoutMs: 3_600_000 });
    await feed.ready(5_000);
  });
  afterAll(async () => {
    await feed?.close();
    await h?.close();
  });

  const revoke = async (level: L, target: string) => {
    const req: MessageInitShape<typeof RevokeRequestSchema> = { level, target, reason: R.MANUAL };
    return (await h.client.revoke(req, { metadata: h.keyProof(h.operator, IssuerService.method.revoke, RevokeRequestSchema, req) })).sequence;
  };

  it('applies the live entries it never saw and drops the pruned ones', async () => {
    const seenShort = h.newAgent('task-seen');
    const seenToken = await h.issue(seenShort, { requestedTtlSeconds: 60 });
    const s0 = await revoke(L.TOKEN, seenToken.jti);
    await vi.waitFor(() => expect(feed.sequence).toBe(s0));
    expect(feed.check(claimsOf(seenToken.accessToken))).toBe('ERR_TOKEN_REVOKED');

    sw.cut();
    // While away: a long-lived entry it never sees, then a short one, then pruning.
    const longAgent = h.newAgent('task-long');
    const longToken = await h.issue(longAgent, { requestedTtlSeconds: 1800 });
    const shortAgent = h.newAgent('task-short');
    const shortToken = await h.issue(shortAgent, { requestedTtlSeconds: 60 });
    const sLong = await revoke(L.AGENT, longAgent.sub);
    const sShort = await revoke(L.TOKEN, shortToken.jti);
    h.clock.advance((60 + 30 + 2) * 1000);
    expect((await h.issuer.prune()).revocations).toBe(2); // the seen entry and the short one
    expect(feed.check(claimsOf(longToken.accessToken))).toBe('ERR_REVOCATION_STALE');

    sw.restore();
    await vi.waitFor(() => expect(feed.sequence).toBe(sShort), { timeout: 5_000 });
    expect(sShort).toBeGreaterThan(sLong);
    // The entry it never saw is applied; the view holds exactly what is live.
    expect(feed.check(claimsOf(longToken.accessToken))).toBe('ERR_TOKEN_REVOKED');
    expect(feed.size).toBe(1);
    const other = await h.issue(h.newAgent('task-other'), { requestedTtlSeconds: 60 });
    expect(feed.check(claimsOf(other.accessToken))).toBeUndefined();
  });
});
