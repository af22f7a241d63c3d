import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { BatonError } from '@baton/core';
import { AppendResponseSchema, AuditEventSchema, AuditService } from './gen/baton/audit/v1/audit_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from './client.js';
import type { Client } from './client-types.js';
import type { ServiceImpl } from './handler-types.js';
import { createServer } from './server.js';
import type { BatonServer } from './server.js';
import { aborted, collectorService, deferred, rejectionOf, start } from './testing/fixtures.js';

const Collector = collectorService();

const tailCancelled = deferred<unknown>();
const tailFinally = deferred<void>();
const collectCancelled = deferred<unknown>();
const collectFirstSeen = deferred<void>();
const echoDone = deferred<number>();

const auditImpl: Partial<ServiceImpl<typeof AuditService>> = {
  async *tail(req, ctx) {
    if (req.filter?.task === 'fail-mid-stream') {
      yield { entry: { sequence: 1n } };
      throw new BatonError('ERR_AUDIT_UNAVAILABLE', 'store offline');
    }
    if (req.filter?.task === 'finite') {
      for (let i = 1n; i <= 3n; i++) yield { entry: { sequence: i, event: { eventId: `e${i}` } } };
      ctx.setTrailer('x-count', '3');
      return;
    }
    try {
      for (let i = 1n; ; i++) {
        yield { entry: { sequence: i } };
        if (i >= 2n) {
          tailCancelled.resolve(await aborted(ctx.signal));
          return;
        }
      }
    } finally {
      tailFinally.resolve();
    }
  },
};

const collectorImpl: ServiceImpl<typeof Collector> = {
  async collect(requests, ctx) {
    const results: Array<{ eventId: string; sequence: bigint }> = [];
    try {
      for await (const ev of requests) {
        if (ev.eventId === 'one') collectFirstSeen.resolve();
        if (ev.type === 'boom') throw new BatonError('ERR_AUDIT_EVENT_INVALID', `bad event ${ev.eventId}`);
        results.push({ eventId: ev.eventId, sequence: BigInt(results.length + 1) });
      }
    } catch (err) {
      if (ctx.signal.aborted) collectCancelled.resolve(ctx.signal.reason);
      throw err;
    }
    // A cancelled call must never look complete to the handler.
    if (results.some((r) => r.eventId === 'one')) collectCancelled.resolve('completed');
    return { results };
  },
  async *echo(requests) {
    let n = 0;
    for await (const ev of requests) {
      n++;
      yield { ...ev, eventId: `echo-${ev.eventId}` };
    }
    echoDone.resolve(n);
  },
};

let server: BatonServer;
let audit: Client<typeof AuditService>;
let collector: Client<typeof Collector>;

beforeAll(async () => {
  server = createServer({ tracing: false });
  server.addService(AuditService, auditImpl as ServiceImpl<typeof AuditService>);
  server.addService(Collector, collectorImpl);
  const target = await start(server);
  audit = createClient(AuditService, target);
  collector = createClient(Collector, target);
});

afterAll(async () => {
  audit.close();
  collector.close();
  await server.shutdown(100);
});

async function* events(n: number, type = 'ok'): AsyncGenerator<MessageInitShape<typeof AuditEventSchema>> {
  for (let i = 1; i <= n; i++) yield { eventId: `ev-${i}`, type: i === n ? type : 'ok' };
}

describe('server streaming', () => {
  it('delivers every message and ends cleanly', async () => {
    const seqs: bigint[] = [];
    for await (const r of audit.tail({ filter: { task: 'finite' } })) seqs.push(r.entry!.sequence);
    expect(seqs).toEqual([1n, 2n, 3n]);
  });

  it('breaking out of the loop cancels the call and aborts the handler signal', async () => {
    const got: bigint[] = [];
    for await (const r of audit.tail({ filter: { task: 'forever' } })) {
      got.push(r.entry!.sequence);
      if (got.length === 2) break;
    }
    expect(got).toEqual([1n, 2n]);
    const reason = await tailCancelled.promise;
    expect(reason).toBeInstanceOf(BatonError);
    expect((reason as BatonError).code).toBe('ERR_CANCELLED');
    await tailFinally.promise;
  });

  it('surfaces a mid-stream BatonError with its code after the messages sent before it', async () => {
    const got: bigint[] = [];
    const err = await rejectionOf(async () => {
      for await (const r of audit.tail({ filter: { task: 'fail-mid-stream' } })) got.push(r.entry!.sequence);
    });
    expect(got).toEqual([1n]);
    expect(err).toBeInstanceOf(BatonError);
    expect(err.code).toBe('ERR_AUDIT_UNAVAILABLE');
    expect(JSON.stringify((err.cause as grpc.ServiceError).metadata.toJSON())).not.toContain('offline');
  });

  it('cancels through an AbortSignal', async () => {
    const ac = new AbortController();
    const err = await rejectionOf(async () => {
      for await (const _ of audit.tail({ filter: { task: 'forever2' } }, { signal: ac.signal })) ac.abort();
    });
    expect(err.code).toBe('ERR_CANCELLED');
  });
});

describe('client streaming', () => {
  it('sends an async iterable and gets one response', async () => {
    const res = await collector.collect(events(3));
    expect(res.$typeName).toBe(AppendResponseSchema.typeName);
    expect(res.results.map((r) => [r.eventId, r.sequence])).toEqual([
      ['ev-1', 1n],
      ['ev-2', 2n],
      ['ev-3', 3n],
    ]);
  });

  it('accepts a plain array and an empty stream', async () => {
    expect((await collector.collect([{ eventId: 'a' }, { eventId: 'b' }])).results).toHaveLength(2);
    expect((await collector.collect([])).results).toHaveLength(0);
  });

  it('maps a handler BatonError to its code', async () => {
    expect((await rejectionOf(collector.collect(events(2, 'boom')))).code).toBe('ERR_AUDIT_EVENT_INVALID');
  });

  it('a failing request iterable rejects with the local error and cancels the server side', async () => {
    const local = new Error('source failed');
    async function* failing(): AsyncGenerator<MessageInitShape<typeof AuditEventSchema>> {
      yield { eventId: 'one' };
      await collectFirstSeen.promise;
      throw local;
    }
    expect(await rejectionOf(collector.collect(failing()))).toBe(local);
    const reason = await collectCancelled.promise;
    expect((reason as BatonError).code).toBe('ERR_CANCELLED');
  });
});

describe('bidirectional streaming', () => {
  it('echoes each request as it arrives', async () => {
    const out: string[] = [];
    for await (const ev of collector.echo(events(4))) out.push(ev.eventId);
    expect(out).toEqual(['echo-ev-1', 'echo-ev-2', 'echo-ev-3', 'echo-ev-4']);
    expect(await echoDone.promise).toBe(4);
  });

  it('uses the same descriptors as the generated code', () => {
    expect(Collector.method.collect.input).toBe(AuditEventSchema);
  });
});
