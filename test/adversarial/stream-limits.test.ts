/**
 * Stream limits per connection against the real authority (its default server options:
 * 100 concurrent streams per connection). One connection holding 150 WatchRevocations
 * streams gets 100 served and the rest queued by its own HTTP/2 stack until a slot frees;
 * a hand-written client that ignores the limit has the excess refused (REFUSED_STREAM),
 * and one that floods after acknowledging the limit loses only its own connection.
 * Throughout, everyone else registers and calls a guarded resource as usual.
 * (Idle and age limits and the bound on deadline-less unary calls are proved with small
 * values in packages/proto/src/connection-limits.test.ts.)
 */
import http2 from 'node:http2';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { outcomeOf } from './support/outcome.js';
import { startStack, type Stack } from './support/stack.js';

const LIMIT = 100;
const WATCH = `/${IssuerService.typeName}/WatchRevocations`;
/** One empty request message (from_sequence 0). */
const EMPTY_MESSAGE = Buffer.alloc(5);
const REFUSED_STREAM = 0x7;

async function until(what: string, pred: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The control frames a misbehaving HTTP/2 client sees, from a socket it frames by hand. */
interface RawConn {
  readonly seen: { headers: Set<number>; refused: number[]; goaway: boolean; closed: boolean; acked: boolean };
  open(path: string): number;
  destroy(): void;
}

function frame(type: number, flags: number, stream: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(9);
  h.writeUIntBE(payload.length, 0, 3);
  h.writeUInt8(type, 3);
  h.writeUInt8(flags, 4);
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, payload]);
}

/** HPACK literal without indexing, new name: enough for the six headers of a gRPC call. */
const hpack = (headers: Record<string, string>): Buffer =>
  Buffer.concat(Object.entries(headers).map(([k, v]) => Buffer.concat([Buffer.from([0, k.length]), Buffer.from(k), Buffer.from([v.length]), Buffer.from(v)])));

async function rawConnect(address: string, ackSettings: boolean): Promise<RawConn> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const sock = net.connect(port, host);
  sock.on('error', () => undefined);
  await new Promise((resolve) => sock.once('connect', resolve));
  const seen = { headers: new Set<number>(), refused: [] as number[], goaway: false, closed: false, acked: false };
  let buf = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 9 && buf.length >= 9 + buf.readUIntBE(0, 3)) {
      const [len, type, flags, id] = [buf.readUIntBE(0, 3), buf[3], buf[4]!, buf.readUInt32BE(5) & 0x7fffffff];
      const payload = buf.subarray(9, 9 + len);
      buf = buf.subarray(9 + len);
      if (type === 0x4 && (flags & 0x1) === 0 && ackSettings) {
        sock.write(frame(0x4, 0x1, 0, Buffer.alloc(0)));
        seen.acked = true;
      }
      if (type === 0x1) seen.headers.add(id);
      if (type === 0x3 && payload.readUInt32BE(0) === REFUSED_STREAM) seen.refused.push(id);
      if (type === 0x7) seen.goaway = true;
    }
  });
  sock.on('close', () => (seen.closed = true));
  sock.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  sock.write(frame(0x4, 0, 0, Buffer.alloc(0)));
  let next = 1;
  return {
    seen,
    open(path) {
      const id = next;
      next += 2;
      const block = hpack({ ':method': 'POST', ':scheme': 'http', ':path': path, ':authority': address, 'content-type': 'application/grpc', te: 'trailers' });
      sock.write(frame(0x1, 0x4, id, block));
      sock.write(frame(0x0, 0x1, id, EMPTY_MESSAGE));
      return id;
    },
    destroy: () => sock.destroy(),
  };
}

describe('concurrent streams per connection', () => {
  let s: Stack;
  beforeAll(async () => {
    s = await startStack();
  });
  afterAll(async () => {
    await s?.close();
  });

  it(`one connection gets ${LIMIT} WatchRevocations streams served and the rest queued; the queued ones start as slots free; others are served throughout`, async () => {
    const session = http2.connect(`http://${s.address}`);
    session.on('error', () => undefined);
    try {
      await new Promise((resolve) => session.once('remoteSettings', resolve));
      expect(session.remoteSettings.maxConcurrentStreams).toBe(LIMIT);
      const streams = Array.from({ length: 150 }, () => {
        const st = session.request({ ':method': 'POST', ':path': WATCH, 'content-type': 'application/grpc', te: 'trailers' });
        const state = { st, answered: false };
        st.on('error', () => undefined);
        st.on('response', () => (state.answered = true));
        st.end(EMPTY_MESSAGE);
        return state;
      });
      const answered = () => streams.filter((x) => x.answered).length;
      await until('the first 100 answers', () => answered() === LIMIT);
      await new Promise((r) => setTimeout(r, 300));
      expect(answered()).toBe(LIMIT);
      expect(streams.slice(LIMIT).every((x) => !x.answered && !x.st.closed)).toBe(true);

      // Someone else registers and calls a guarded resource meanwhile.
      expect(await outcomeOf(s.approve(await s.agent()))).toBe('OK');

      // Half of the served ones hang up: every queued stream is served.
      for (const x of streams.filter((y) => y.answered).slice(0, 50)) x.st.close(http2.constants.NGHTTP2_CANCEL);
      await until('the queued streams served', () => streams.slice(LIMIT).every((x) => x.answered));
      for (const x of streams) x.st.close(http2.constants.NGHTTP2_CANCEL);
    } finally {
      session.destroy();
    }
  });

  it('a client that ignores the limit has the streams over it refused (REFUSED_STREAM); the authority serves others', async () => {
    const c = await rawConnect(s.address, false);
    try {
      const ids = Array.from({ length: LIMIT + 20 }, () => c.open(WATCH));
      await until('the refusals', () => c.seen.refused.length === 20 && c.seen.headers.size >= LIMIT);
      expect(c.seen.refused).toEqual(ids.slice(LIMIT));
      expect(ids.slice(0, LIMIT).every((id) => c.seen.headers.has(id))).toBe(true);
      expect(c.seen.closed).toBe(false);
      expect(await outcomeOf(s.approve(await s.agent()))).toBe('OK');
    } finally {
      c.destroy();
    }
  });

  it('a client that floods past the limit it acknowledged loses its own connection, nobody else’s', async () => {
    const c = await rawConnect(s.address, true);
    try {
      await until('the SETTINGS exchange', () => c.seen.acked);
      await new Promise((r) => setTimeout(r, 100));
      for (let i = 0; i < LIMIT + 20; i++) c.open(WATCH);
      await until('the connection closed', () => c.seen.closed);
      expect(c.seen.goaway).toBe(true);
      expect(await outcomeOf(s.approve(await s.agent()))).toBe('OK');
    } finally {
      c.destroy();
    }
  });
});
