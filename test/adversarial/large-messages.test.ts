/**
 * 10 MB messages to every RPC of every service, from a client that lifted its own send
 * limit: each is refused by the server's 4 MiB receive limit with RESOURCE_EXHAUSTED,
 * which Baton's client reports as ERR_MESSAGE_TOO_LARGE. Oversized metadata is refused
 * with ERR_METADATA_TOO_LARGE, or, past what HTTP/2 itself accepts, the stream is reset
 * while the connection keeps serving. Nothing is written and every server stays healthy.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { outcomeOf } from './support/outcome.js';
import { methodsOf, rawCall, type RawOutcome } from './support/raw-call.js';
import { reachableServices } from './support/services.js';
import { useRawStack } from './support/raw-stack.js';
import type { Stack } from './support/stack.js';

const TEN_MB = Buffer.alloc(10 * 1024 * 1024, 0x0a);
const RESOURCE_EXHAUSTED = 8;

const raw = useRawStack();
const client = raw.client;
let s: Stack;
beforeAll(() => {
  s = raw.stack();
});

describe('10 MB messages', () => {
  it('every RPC of every service refuses one with RESOURCE_EXHAUSTED', async () => {
    const results: RawOutcome[] = [];
    for (const { service, address } of reachableServices(s)) {
      for (const { path, kind } of methodsOf(service)) results.push(await rawCall(client(address), path, kind, TEN_MB));
    }
    expect(results.length).toBeGreaterThanOrEqual(40);
    for (const r of results) expect({ path: r.path, status: r.status, messages: r.messages }).toEqual({ path: r.path, status: RESOURCE_EXHAUSTED, messages: 0 });
  });

  it('Baton’s own client reports it as ERR_MESSAGE_TOO_LARGE', async () => {
    const big = createClient(IdentityService, s.address, { tracing: false, maxSendMessageBytes: 32 * 1024 * 1024 });
    try {
      expect(await outcomeOf(big.register({ launchToken: 'x'.repeat(TEN_MB.length) }))).toBe('ERR_MESSAGE_TOO_LARGE');
      // Within the limit the same client is answered normally.
      expect(await outcomeOf(big.register({ launchToken: 'blt_x' }))).toBe('ERR_LAUNCH_TOKEN_INVALID');
    } finally {
      big.close();
    }
  });
});

describe('oversized metadata', () => {
  const register = `/${IdentityService.typeName}/Register`;
  it('20 KB of metadata → ERR_METADATA_TOO_LARGE at the authority and the resource server', async () => {
    const md = { authorization: `DPoP ${'a'.repeat(20 * 1024)}` };
    expect(await rawCall(client(s.address), register, 'unary', Buffer.alloc(0), md)).toMatchObject({ status: RESOURCE_EXHAUSTED, code: 'ERR_METADATA_TOO_LARGE' });
    expect(await rawCall(client(s.paymentsAddress), '/baton.demo.v1.PaymentsService/ApproveInvoice', 'unary', Buffer.alloc(0), md)).toMatchObject({
      status: RESOURCE_EXHAUSTED,
      code: 'ERR_METADATA_TOO_LARGE',
    });
  });

  it('1 MB of metadata is reset by HTTP/2 before any handler runs; the same connection keeps serving', async () => {
    const c = client(s.address);
    const r = await rawCall(c, register, 'unary', Buffer.alloc(0), { authorization: 'x'.repeat(1024 * 1024) });
    expect([r.status === 0, r.code]).toEqual([false, '']);
    expect(await rawCall(c, `/${IdentityService.typeName}/GetChallenge`, 'unary', Buffer.alloc(0))).toMatchObject({ status: 0 });
  });
});

describe('afterwards', () => {
  it('nothing was written and every server is healthy and serving', () => raw.expectUnchangedAndServing());
});
