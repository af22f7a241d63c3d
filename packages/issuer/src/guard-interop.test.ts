import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { IssuerService, RevocationLevel as L, RevocationReason as R, RevokeRequestSchema, RotateKeysRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { createProof } from '@baton/core';
import { createGuard, createRevocationFeed, jwksFromIssuer, type Guard, type RevocationFeed } from '@baton/guard';
import { ISSUER, startHarness, STORES, type Harness, type TestAgent } from './testing/harness.js';

const HTU = '/acme.payments.v1.Payments/Read';

describe.each(STORES)('a real guard fed by this issuer (%s)', (kind) => {
  let h: Harness;
  let feed: RevocationFeed;
  let guard: Guard;
  beforeAll(async () => {
    h = await startHarness(kind, 'interop', { keepAliveMs: 50 });
    feed = createRevocationFeed({ client: h.client, clock: h.clock });
    guard = createGuard({ audience: 'payments', issuer: ISSUER, keys: jwksFromIssuer(h.client, { clock: h.clock, minRefreshIntervalMs: 0 }), revocation: feed, clock: h.clock, keyRefreshIntervalMs: 0 });
    await feed.ready(5000);
  });
  afterAll(async () => {
    await feed?.close();
    await h?.close();
  });

  const use = async (agent: TestAgent, token: string) => {
    const d = await guard.check({
      token,
      proof: createProof({ keyPair: agent.key, htm: 'POST', htu: HTU, accessToken: token, nowMs: h.clock.now() }),
      htm: 'POST',
      htu: HTU,
      request: { action: 'read', resource: 'invoice' },
    });
    return d.allow ? 'allow' : d.code;
  };
  const revoke = async (req: MessageInitShape<typeof RevokeRequestSchema>) =>
    h.client.revoke(req, { metadata: h.keyProof(h.operator, IssuerService.method.revoke, RevokeRequestSchema, req) });

  it('allows a fresh token, then denies it once its agent is revoked', async () => {
    const a = h.newAgent();
    const t = await h.issue(a);
    expect(await use(a, t.accessToken)).toBe('allow');
    const { sequence } = await revoke({ level: L.AGENT, target: a.sub, reason: R.ANOMALY });
    await vi.waitFor(() => expect(feed.sequence).toBeGreaterThanOrEqual(sequence));
    expect(await use(a, t.accessToken)).toBe('ERR_TOKEN_REVOKED');
  });

  it('reports released tokens as released, and renewed ones as revoked', async () => {
    const a = h.newAgent();
    const t1 = await h.issue(a);
    const t2 = await h.client.renew({}, { metadata: h.dpop(a, t1.accessToken, IssuerService.method.renew) });
    await vi.waitFor(async () => expect(await use(a, t1.accessToken)).toBe('ERR_TOKEN_REVOKED'));
    expect(await use(a, t2.accessToken)).toBe('allow');
    const rel = await h.client.release({}, { metadata: h.dpop(a, t2.accessToken, IssuerService.method.release) });
    await vi.waitFor(() => expect(feed.sequence).toBeGreaterThanOrEqual(rel.sequence));
    expect(await use(a, t2.accessToken)).toBe('ERR_TOKEN_RELEASED');
  });

  it('learns an emergency key rotation through the feed', async () => {
    const a = h.newAgent();
    const t = await h.issue(a);
    expect(await use(a, t.accessToken)).toBe('allow');
    const r = await h.client.rotateKeys({ emergency: true }, { metadata: h.keyProof(h.operator, IssuerService.method.rotateKeys, RotateKeysRequestSchema, { emergency: true }) });
    await vi.waitFor(() => expect(feed.sequence).toBeGreaterThanOrEqual(r.sequence));
    expect(await use(a, t.accessToken)).toBe('ERR_TOKEN_KEY_REVOKED');
    const fresh = await h.issue(a);
    expect(await use(a, fresh.accessToken)).toBe('allow');
  });
});
