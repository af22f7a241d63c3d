import http2 from 'node:http2';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditService } from './gen/baton/audit/v1/audit_pb.js';
import { createClient } from './client.js';
import type { Client } from './client-types.js';
import type { ServiceImpl } from './handler-types.js';
import { DEFAULT_SERVER_OPTIONS, createServer, type BatonServer, type ServerOptions } from './server.js';
import { rejectionOf, start } from './testing/fixtures.js';
import { H2_REFUSED_STREAM, rawH2, type RawH2 } from './testing/raw-h2.js';

const TAIL = `/${AuditService.typeName}/Tail`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A server whose Tail yields `entries` entries `everyMs` apart, then (entries = 0: right
 * after the first) holds the stream until the client cancels; GetCheckpoint records the
 * caller's peer and answers after `checkpointDelayMs`, or when the call is cancelled.
 */
function harness() {
  const state = { open: 0, peers: new Set<string>(), aborted: 0, entries: 1, everyMs: 0, checkpointDelayMs: 0 };
  const impl: Partial<ServiceImpl<typeof AuditService>> = {
    async *tail(_req, ctx) {
      state.open++;
      try {
        for (let i = 1n; i <= BigInt(Math.max(state.entries, 1)); i++) {
          yield { entry: { sequence: i } };
          if (state.everyMs > 0) await sleep(state.everyMs);
        }
        if (state.entries === 0) await new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }));
      } finally {
        state.open--;
      }
    },
    async getCheckpoint(_req, ctx) {
      state.peers.add(ctx.peer);
      if (state.checkpointDelayMs > 0) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, state.checkpointDelayMs);
          ctx.signal.addEventListener('abort', () => (clearTimeout(t), state.aborted++, resolve()), { once: true });
        });
      }
      return {};
    },
  };
  return { state, impl: impl as ServiceImpl<typeof AuditService> };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(options: ServerOptions = {}) {
  const h = harness();
  const server: BatonServer = createServer({ tracing: false, ...options });
  server.addService(AuditService, h.impl);
  const target = await start(server);
  cleanups.push(() => server.shutdown(0));
  const client = (deadlineMs?: number): Client<typeof AuditService> => {
    const c = createClient(AuditService, target, { tracing: false, channelOptions: { 'grpc.use_local_subchannel_pool': 1 }, ...(deadlineMs ? { defaultDeadlineMs: deadlineMs } : {}) });
    cleanups.push(() => c.close());
    return c;
  };
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const raw = async (ackSettings: boolean): Promise<RawH2> => {
    const r = await rawH2(host, port, { ackSettings });
    cleanups.push(() => r.close());
    return r;
  };
  return { ...h, target, client, raw };
}

/** Reads a stream in the background: entries seen, and how it ended. */
function follow(c: Client<typeof AuditService>, signal?: AbortSignal) {
  const s = { entries: 0, end: undefined as string | undefined };
  void (async () => {
    try {
      for await (const _ of c.tail({}, signal ? { signal } : {})) s.entries++;
      s.end = 'OK';
    } catch (err) {
      s.end = (err as { code?: string }).code ?? 'no code';
    }
  })();
  return s;
}

async function until(pred: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

describe('maxConcurrentStreams', () => {
  it(`defaults to ${DEFAULT_SERVER_OPTIONS.maxConcurrentStreams}: a grpc-js client queues the next call on that connection until a stream ends`, async () => {
    const s = await serve();
    s.state.entries = 0; // every Tail stays open
    const c = s.client();
    const stop = new AbortController();
    const streams = Array.from({ length: 100 }, () => follow(c, stop.signal));
    await until(() => s.state.open === 100 && streams.every((x) => x.entries === 1));

    const extra = new AbortController();
    const queued = follow(c, extra.signal);
    // A unary call waits in the same queue.
    expect((await rejectionOf(c.getCheckpoint({}, { deadlineMs: 300 }))).code).toBe('ERR_DEADLINE_EXCEEDED');
    expect({ open: s.state.open, queued: queued.entries }).toEqual({ open: 100, queued: 0 });

    // They end: the queued stream gets a slot.
    stop.abort();
    await until(() => queued.entries === 1);
    await until(() => s.state.open === 1);
    extra.abort();
  });

  it('a client that ignores the limit before acknowledging it has the excess streams refused (REFUSED_STREAM)', async () => {
    const s = await serve();
    const r = await s.raw(false);
    await r.until((ev) => ev.some((e) => e.kind === 'settings' && !e.ack));
    expect(r.events.find((e) => e.kind === 'settings' && !e.ack)).toMatchObject({ maxConcurrentStreams: 100 });
    const ids = Array.from({ length: 102 }, () => r.call(TAIL, Buffer.alloc(0)));
    await r.until((ev) => ev.filter((e) => e.kind === 'rst').length === 2 && ev.filter((e) => e.kind === 'headers').length >= 100);
    expect(r.events.filter((e) => e.kind === 'rst')).toEqual([
      { kind: 'rst', stream: ids[100], code: H2_REFUSED_STREAM },
      { kind: 'rst', stream: ids[101], code: H2_REFUSED_STREAM },
    ]);
    const answered = new Set(r.events.flatMap((e) => (e.kind === 'headers' ? [e.stream] : [])));
    expect(ids.slice(0, 100).every((id) => answered.has(id))).toBe(true);
  });

  it('a client that acknowledged the limit and exceeds it loses its connection; others are served', async () => {
    const s = await serve({ maxConcurrentStreams: 3 });
    s.state.entries = 0;
    const r = await s.raw(true);
    await r.until((ev) => ev.some((e) => e.kind === 'settings' && !e.ack));
    await sleep(50); // let the ACK land: from then on the limit binds
    for (let i = 0; i < 4; i++) r.call(TAIL, Buffer.alloc(0));
    await r.until((ev) => ev.some((e) => e.kind === 'closed'));
    expect(r.events.some((e) => e.kind === 'goaway')).toBe(true);
    expect(r.events.some((e) => e.kind === 'headers' && e.stream === 7)).toBe(false);
    await expect(s.client().getCheckpoint({})).resolves.toBeDefined();
  });
});

describe('maxConnectionIdleMs', () => {
  it('closes a connection that carries no call after the configured time', async () => {
    const s = await serve({ maxConnectionIdleMs: 200 });
    const t0 = Date.now();
    const session = http2.connect(`http://${s.target}`);
    session.on('error', () => undefined);
    cleanups.push(() => session.destroy());
    const goaway = new Promise<number>((resolve) => session.once('goaway', () => resolve(Date.now() - t0)));
    const elapsed = await goaway;
    // Not before the configured idle time (no upper bound: a loaded machine only delays it).
    expect(elapsed).toBeGreaterThanOrEqual(150);
    await until(() => session.closed || session.destroyed);
  });

  it('keeps a connection with an open stream past the idle time, and the stream keeps flowing', async () => {
    const s = await serve({ maxConnectionIdleMs: 150 });
    s.state.entries = 8;
    s.state.everyMs = 100; // 800 ms: more than five idle periods
    const c = s.client();
    const stream = follow(c);
    await until(() => stream.end !== undefined, 5_000);
    expect(stream).toEqual({ entries: 8, end: 'OK' });
  });

  it('keeps it for a stream that goes silent too (an open call, not traffic, makes a connection busy)', async () => {
    const s = await serve({ maxConnectionIdleMs: 150 });
    s.state.entries = 0; // one entry, then nothing until cancelled
    const stop = new AbortController();
    const stream = follow(s.client(), stop.signal);
    await until(() => stream.entries === 1);
    await sleep(600);
    expect({ ...stream, open: s.state.open }).toEqual({ entries: 1, end: undefined, open: 1 });
    stop.abort();
    await until(() => stream.end !== undefined);
    expect(stream.end).toBe('ERR_CANCELLED');
  });

  it('a grpc-js client reconnects on its next call, transparently', async () => {
    const s = await serve({ maxConnectionIdleMs: 150 });
    const c = s.client();
    await c.getCheckpoint({});
    await sleep(500);
    await c.getCheckpoint({});
    expect(s.state.peers.size).toBe(2);
  });
});

describe('maxConnectionAgeMs', () => {
  it('with the default grace (Infinity) a stream outlives its connection while new calls move to fresh connections', async () => {
    expect(DEFAULT_SERVER_OPTIONS.maxConnectionAgeGraceMs).toBe(Infinity);
    const s = await serve({ maxConnectionAgeMs: 200 });
    s.state.entries = 12;
    s.state.everyMs = 100;
    const c = s.client();
    const stream = follow(c);
    let calls = 0;
    while (stream.end === undefined) {
      await c.getCheckpoint({});
      calls++;
      await sleep(50);
    }
    expect(stream).toEqual({ entries: 12, end: 'OK' });
    expect(calls).toBeGreaterThan(5);
    expect(s.state.peers.size).toBeGreaterThan(1);
  });

  it('a finite grace cuts what is still open after it', async () => {
    const s = await serve({ maxConnectionAgeMs: 200, maxConnectionAgeGraceMs: 200 });
    s.state.entries = 0;
    const stream = follow(s.client());
    await until(() => stream.end !== undefined, 5_000);
    expect(stream).toEqual({ entries: 1, end: 'ERR_UNAVAILABLE' });
  });
});

describe('unaryDeadlineMs', () => {
  it('ends a unary call that named no deadline with DEADLINE_EXCEEDED, and aborts its handler', async () => {
    const s = await serve({ unaryDeadlineMs: 200 });
    s.state.checkpointDelayMs = 5_000;
    const c = s.client(Infinity);
    const t0 = Date.now();
    expect((await rejectionOf(c.getCheckpoint({}))).code).toBe('ERR_DEADLINE_EXCEEDED');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    await until(() => s.state.aborted === 1);
  });

  it('answers a request whose message never arrives (grpc-status 4)', async () => {
    const s = await serve({ unaryDeadlineMs: 200 });
    const session = http2.connect(`http://${s.target}`);
    session.on('error', () => undefined);
    cleanups.push(() => session.destroy());
    const st = session.request({ ':method': 'POST', ':path': `/${AuditService.typeName}/GetCheckpoint`, 'content-type': 'application/grpc', te: 'trailers' });
    st.on('error', () => undefined);
    // A status without a message comes trailers-only: in the response headers.
    const status = await new Promise<unknown>((resolve) => {
      st.once('response', (h) => h['grpc-status'] !== undefined && resolve(h['grpc-status']));
      st.once('trailers', (t) => resolve(t['grpc-status']));
    });
    expect(status).toBe('4');
  });

  it('leaves calls with their own deadline, and streams, alone', async () => {
    const s = await serve({ unaryDeadlineMs: 150 });
    s.state.checkpointDelayMs = 400;
    await expect(s.client(3_000).getCheckpoint({})).resolves.toBeDefined();
    s.state.entries = 4;
    s.state.everyMs = 100;
    const stream = follow(s.client());
    await until(() => stream.end !== undefined);
    expect(stream).toEqual({ entries: 4, end: 'OK' });
  });
});

describe('connection limit options', () => {
  it.each<[keyof ServerOptions, unknown]>([
    ['maxConcurrentStreams', 0],
    ['maxConcurrentStreams', 1.5],
    ['maxConcurrentStreams', Infinity],
    ['maxConnectionIdleMs', 0],
    ['maxConnectionIdleMs', -1],
    ['maxConnectionIdleMs', 2 ** 31],
    ['maxConnectionAgeMs', Number.NaN],
    ['maxConnectionAgeMs', 2 ** 31 - 1], // plus grpc-js's 10 % jitter would overflow a timer
    ['maxConnectionAgeGraceMs', 10.5],
    ['unaryDeadlineMs', 0],
  ])('refuses %s = %s with a TypeError', (key, value) => {
    expect(() => createServer({ [key]: value } as ServerOptions)).toThrow(TypeError);
  });

  it('accepts Infinity (off) for the time limits', () => {
    const s = createServer({ maxConnectionIdleMs: Infinity, maxConnectionAgeMs: Infinity, maxConnectionAgeGraceMs: Infinity, unaryDeadlineMs: Infinity });
    expect(s.grpcServer).toBeDefined();
  });
});
