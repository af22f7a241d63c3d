/**
 * Idle and slow connections. A WatchRevocations subscriber that stops reading must be
 * dropped from the feed once it falls `subscriberBufferLimit` entries behind — it
 * receives what was already in flight and then ERR_UNAVAILABLE, never the backlog — while
 * a reading subscriber on the same server gets every entry. (The issuer runs here with a
 * small limit so that a few dozen revocations overflow it; the authority's default is
 * 1024.) Idle TCP connections, a trickled HTTP/2 preface and request streams that never
 * send their message do not stop the authority serving everyone else.
 */
import http2 from 'node:http2';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { generateKeyPair, randomId } from '@baton/core';
import { keyProofMetadata } from '@baton/guard';
import { createIssuer, memoryKeyRing, type Issuer } from '@baton/issuer';
import { createClient, createServer, type BatonServer, type Client } from '@baton/proto';
import {
  IssuerService,
  RevocationLevel,
  RevocationReason,
  RevokeRequestSchema,
  WatchRevocationsResponseSchema,
  type WatchRevocationsResponse,
} from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase, type SqlDatabase } from '@baton/store';
import { outcomeOf } from './support/outcome.js';
import { startStack, type Stack } from './support/stack.js';

const BUFFER_LIMIT = 32;
const REVOCATIONS = 150;

/**
 * A raw HTTP/2 gRPC call whose response nobody reads until `drain()`. It advertises a
 * 1 KB stream window, as a slow reader may: once that is full the server can only queue.
 */
function rawSubscriber(address: string, pathName: string, body: Buffer): { stream: http2.ClientHttp2Stream; session: http2.ClientHttp2Session; drain(): Promise<{ messages: Buffer[]; trailers: http2.IncomingHttpHeaders | undefined }> } {
  const session = http2.connect(`http://${address}`, { settings: { initialWindowSize: 1024 } });
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': pathName, 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => undefined);
  let trailers: http2.IncomingHttpHeaders | undefined;
  stream.on('trailers', (t) => (trailers = t));
  stream.end(body);
  return {
    stream,
    session,
    async drain() {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      await new Promise((resolve) => stream.once('close', resolve));
      const all = Buffer.concat(chunks);
      const messages: Buffer[] = [];
      for (let off = 0; off + 5 <= all.length; ) {
        const len = all.readUInt32BE(off + 1);
        messages.push(all.subarray(off + 5, off + 5 + len));
        off += 5 + len;
      }
      return { messages, trailers };
    },
  };
}

/** A gRPC frame holding an empty message. */
const EMPTY_FRAME = Buffer.alloc(5);

describe('a WatchRevocations subscriber that never reads', () => {
  let dir: string;
  let db: SqlDatabase;
  let issuer: Issuer;
  let server: BatonServer;
  let client: Client<typeof IssuerService>;
  let address: string;
  const operator = generateKeyPair();

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-adv-slow-'));
    db = await openDatabase(`sqlite:${path.join(dir, 'issuer.db')}`);
    issuer = await createIssuer({
      db,
      keyRing: memoryKeyRing(),
      issuer: 'spiffe://baton.local/authority',
      trustDomain: 'baton.local',
      operators: new Map([[operator.thumbprint, 'op']]),
      services: new Map(),
      subscriberBufferLimit: BUFFER_LIMIT,
      pruneIntervalMs: 0,
    });
    server = createServer({ tracing: false });
    server.addService(IssuerService, issuer.service);
    address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
    client = createClient(IssuerService, address, { tracing: false });
  });
  afterAll(async () => {
    client?.close();
    await server?.shutdown(0);
    await issuer?.close();
    await db?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('is dropped with ERR_UNAVAILABLE after its buffer overflows, while a reading subscriber gets every entry', async () => {
    const slow = rawSubscriber(address, `/${IssuerService.typeName}/WatchRevocations`, EMPTY_FRAME);
    const reader = new AbortController();
    const seen: bigint[] = [];
    const reading = (async () => {
      for await (const ev of client.watchRevocations({}, { signal: reader.signal })) {
        if (ev.event.case === 'entry') seen.push(ev.event.value.sequence);
        if (seen.length === REVOCATIONS) break;
      }
    })();

    for (let i = 0; i < REVOCATIONS; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, () => {
          const req = { level: RevocationLevel.TOKEN, target: randomId(16), reason: RevocationReason.MANUAL };
          return client.revoke(req, { metadata: keyProofMetadata(operator, IssuerService.method.revoke, toBinary(RevokeRequestSchema, create(RevokeRequestSchema, req))) });
        }),
      );
    }
    await reading;
    expect(seen).toEqual(Array.from({ length: REVOCATIONS }, (_, i) => BigInt(i + 1)));

    // Now the slow one reads: what was in flight, then the drop — not the 100-entry backlog.
    const { messages, trailers } = await slow.drain();
    slow.session.close();
    const events: WatchRevocationsResponse[] = messages.map((m) => fromBinary(WatchRevocationsResponseSchema, m));
    const entries = events.filter((e) => e.event.case === 'entry').length;
    expect(events[0]?.event.case).toBe('snapshotBegin');
    expect(entries).toBeLessThan(REVOCATIONS - BUFFER_LIMIT);
    expect({ status: trailers?.['grpc-status'], code: trailers?.['baton-error-code'] }).toEqual({ status: '14', code: 'ERR_UNAVAILABLE' });
  });
});

describe('idle connections and streams against the authority', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  it('silent sockets, a trickled preface and bodiless requests do not stop it serving others', async () => {
    const [host, port] = [s.address.slice(0, s.address.lastIndexOf(':')), Number(s.address.slice(s.address.lastIndexOf(':') + 1))];
    const sockets: net.Socket[] = [];
    const open = () =>
      new Promise<net.Socket>((resolve) => {
        const sock = net.connect(port, host, () => resolve(sock));
        sock.on('error', () => undefined);
        sockets.push(sock);
      });
    // 100 connections that never say anything.
    await Promise.all(Array.from({ length: 100 }, open));
    // 20 that send half of the HTTP/2 preface and stop.
    for (const sock of await Promise.all(Array.from({ length: 20 }, open))) sock.write('PRI * HTTP/2.0\r\n');
    // 200 Register streams that send headers and never their message.
    const session = http2.connect(`http://${s.address}`);
    session.on('error', () => undefined);
    const pending = Array.from({ length: 200 }, () => {
      const st = session.request({ ':method': 'POST', ':path': `/baton.identity.v1.IdentityService/Register`, 'content-type': 'application/grpc', te: 'trailers' });
      st.on('error', () => undefined);
      return st;
    });
    try {
      const before = await s.state();
      // Everyone else is served: a full registration and a guarded call.
      const agent = await s.agent();
      expect(await outcomeOf(s.approve(agent))).toBe('OK');
      // The bodiless requests got no answer, and consumed nothing.
      expect(pending.every((st) => st.sentHeaders !== undefined && !st.closed)).toBe(true);
      expect((await s.state()).launchTokensUsed).toBe(before.launchTokensUsed + 1);
    } finally {
      for (const st of pending) st.close(http2.constants.NGHTTP2_CANCEL);
      session.close();
      for (const sock of sockets) sock.destroy();
    }
    // And after they are gone it still serves.
    expect(await outcomeOf(s.approve(await s.agent()))).toBe('OK');
  });
});
