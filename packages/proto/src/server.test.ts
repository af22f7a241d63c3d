import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import * as grpc from '@grpc/grpc-js';
import { BatonError } from '@baton/core';
import { IdentityService, RegisterRequestSchema } from './gen/baton/identity/v1/identity_pb.js';
import { ProblemSchema } from './gen/baton/type/v1/problem_pb.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';
import { createClient } from './client.js';
import type { Client } from './client-types.js';
import type { CallContext, ServiceImpl } from './handler-types.js';
import { rawBytesOf } from './raw-bytes.js';
import { createServer } from './server.js';
import type { BatonServer } from './server.js';
import { aborted, deferred, rejectionOf, start } from './testing/fixtures.js';

// A small IdentityService stub; each method exercises one adapter path.
const seen: { ctx?: CallContext; raw?: Uint8Array | undefined; rawOk?: boolean; signalReason?: unknown } = {};
const internalErrors: unknown[] = [];
const deadlineHit = deferred<unknown>();

const impl: Partial<ServiceImpl<typeof IdentityService>> = {
  async getChallenge(_req, ctx) {
    seen.ctx = ctx;
    ctx.setTrailer('x-test-trailer', 'yes');
    return { nonce: new Uint8Array([1, 2, 3]), expiresAt: 42n };
  },
  async register(req) {
    seen.raw = rawBytesOf(req);
    seen.rawOk = seen.raw !== undefined && Buffer.from(seen.raw).equals(Buffer.from(toBinary(RegisterRequestSchema, req)));
    return { spiffeId: `spiffe://td/agent/o/t/${req.name}`, scopes: [{ action: 'read', resource: 'invoice' }] };
  },
  async getWorkflow(req, ctx) {
    ctx.setTrailer('x-kept-on-error', '1');
    throw new BatonError('ERR_WORKFLOW_NOT_FOUND', `workflow ${req.id} missing in shard 7 (secret detail)`);
  },
  async listWorkflows() {
    throw new Error('connection string postgres://admin:hunter2@db (internal)');
  },
  async resolve(_req, ctx) {
    const reason = await aborted(ctx.signal);
    seen.signalReason = reason;
    deadlineHit.resolve(reason);
    return { name: 'too late' };
  },
  async publish() {
    return { name: 'x'.repeat(4096) };
  },
  // @ts-expect-error: a handler that forgets to answer is a bug the adapter must contain
  async heartbeat() {
    return undefined;
  },
};

let server: BatonServer;
let small: BatonServer;
let target: string;
let smallTarget: string;
let client: Client<typeof IdentityService>;
let smallClient: Client<typeof IdentityService>;

beforeAll(async () => {
  server = createServer({ onInternalError: (err) => internalErrors.push(err), tracing: false });
  server.addService(IdentityService, impl as ServiceImpl<typeof IdentityService>);
  target = await start(server);
  small = createServer({ maxReceiveMessageBytes: 1024, maxSendMessageBytes: 1024, maxMetadataBytes: 2048, tracing: false });
  small.addService(IdentityService, impl as ServiceImpl<typeof IdentityService>);
  smallTarget = await start(small);
  client = createClient(IdentityService, target, { maxSendMessageBytes: 8 * 1024 * 1024 });
  smallClient = createClient(IdentityService, smallTarget);
});

afterAll(async () => {
  client.close();
  smallClient.close();
  await server.shutdown(100);
  await small.shutdown(100);
});

describe('unary calls', () => {
  it('round-trips a request and response with a typed client', async () => {
    const res = await client.getChallenge({});
    expect(Array.from(res.nonce)).toEqual([1, 2, 3]);
    expect(res.expiresAt).toBe(42n);
    expect(res.$typeName).toBe('baton.identity.v1.GetChallengeResponse');
  });

  it('gives the handler a call context', async () => {
    await client.getChallenge({}, { metadata: { 'x-custom': 'v1' }, deadlineMs: 5_000 });
    const ctx = seen.ctx!;
    expect(ctx.method).toBe('/baton.identity.v1.IdentityService/GetChallenge');
    expect(ctx.service).toBe('baton.identity.v1.IdentityService');
    expect(ctx.metadata.get('x-custom')).toEqual(['v1']);
    expect(ctx.peer).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(ctx.deadline).toBeInstanceOf(Date);
    expect(ctx.peerCertificate).toBeUndefined();
    expect(ctx.signal.aborted).toBe(false);
  });

  it('sends trailers the handler set', async () => {
    const trailers = deferred<grpc.Metadata>();
    const raw = new grpc.Client(target, grpc.credentials.createInsecure());
    const call = raw.makeUnaryRequest(
      '/baton.identity.v1.IdentityService/GetChallenge',
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      () => {},
    );
    call.on('status', (s: grpc.StatusObject) => trailers.resolve(s.metadata));
    expect((await trailers.promise).get('x-test-trailer')).toEqual(['yes']);
    raw.close();
  });

  it('keeps the raw request bytes retrievable, not as a property', async () => {
    const res = await client.register({ launchToken: 'lt', publicKey: new Uint8Array(32).fill(7), name: 'worker' });
    expect(res.spiffeId).toBe('spiffe://td/agent/o/t/worker');
    expect(res.scopes[0]?.action).toBe('read');
    expect(seen.rawOk).toBe(true);
    expect(rawBytesOf(create(RegisterRequestSchema, {}))).toBeUndefined();
  });

  it('answers an unimplemented method with UNIMPLEMENTED', async () => {
    const err = await rejectionOf(client.getTrustBundle({}));
    expect(err).toBeInstanceOf(BatonError);
    expect((err.cause as grpc.ServiceError).code).toBe(grpc.status.UNIMPLEMENTED);
  });
});

describe('error mapping', () => {
  it('round-trips a BatonError: same code, generic title, Problem details, no detail leaked', async () => {
    const err = await rejectionOf(client.getWorkflow({ id: 'wf-1' }));
    expect(err).toBeInstanceOf(BatonError);
    expect(err.code).toBe('ERR_WORKFLOW_NOT_FOUND');
    const se = err.cause as grpc.ServiceError;
    expect(se.code).toBe(grpc.status.NOT_FOUND);
    expect(se.details).toBe('Workflow not found');
    expect(se.metadata.get('baton-error-code')).toEqual(['ERR_WORKFLOW_NOT_FOUND']);
    expect(se.metadata.get('x-kept-on-error')).toEqual(['1']);
    const status = fromBinary(StatusSchema, se.metadata.get('grpc-status-details-bin')[0] as Buffer);
    expect(status.code).toBe(grpc.status.NOT_FOUND);
    expect(status.message).toBe('Workflow not found');
    expect(status.details).toHaveLength(1);
    const problem = anyUnpack(status.details[0]!, ProblemSchema)!;
    expect(problem.type).toBe('urn:baton:error:workflow-not-found');
    expect(problem.code).toBe('ERR_WORKFLOW_NOT_FOUND');
    expect(problem.status).toBe(404);
    expect(problem.detail).toBe('');
    const wire = JSON.stringify([se.details, se.metadata.toJSON(), problem]);
    expect(wire).not.toContain('shard 7');
    expect(wire).not.toContain('secret');
    expect(internalErrors).toHaveLength(0);
  });

  it('maps a plain Error to ERR_INTERNAL without leaking its message, and reports it to the hook', async () => {
    const err = await rejectionOf(client.listWorkflows({}));
    expect(err.code).toBe('ERR_INTERNAL');
    const se = err.cause as grpc.ServiceError;
    expect(se.code).toBe(grpc.status.INTERNAL);
    expect(se.details).toBe('Internal error');
    const wire = JSON.stringify([se.details, se.metadata.toJSON()]);
    expect(wire).not.toContain('hunter2');
    expect(wire).not.toContain('postgres');
    expect(internalErrors.some((e) => e instanceof Error && e.message.includes('hunter2'))).toBe(true);
  });

  it('maps a handler that returns nothing to ERR_INTERNAL', async () => {
    const err = await rejectionOf(client.heartbeat({}));
    expect(err.code).toBe('ERR_INTERNAL');
  });

  it('answers a request that fails to decode with INVALID_ARGUMENT', async () => {
    const raw = new grpc.Client(target, grpc.credentials.createInsecure());
    const garbage = Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]); // length-delimited field running past the end
    const err = await new Promise<grpc.ServiceError>((resolve) =>
      raw.makeUnaryRequest('/baton.identity.v1.IdentityService/Register', (b: Buffer) => b, (b: Buffer) => b, garbage, (e) => resolve(e!)),
    );
    raw.close();
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.metadata.get('baton-error-code')).toEqual(['ERR_INVALID_ARGUMENT']);
  });
});

describe('deadlines and cancellation', () => {
  it('maps DEADLINE_EXCEEDED to ERR_DEADLINE_EXCEEDED and aborts the handler signal', async () => {
    const err = await rejectionOf(client.resolve({ name: 'slow' }, { deadlineMs: 50 }));
    expect(err.code).toBe('ERR_DEADLINE_EXCEEDED');
    const reason = await deadlineHit.promise;
    expect(reason).toBeInstanceOf(BatonError);
    expect(['ERR_DEADLINE_EXCEEDED', 'ERR_CANCELLED']).toContain((reason as BatonError).code);
  });

  it('cancels through an AbortSignal with ERR_CANCELLED', async () => {
    const ac = new AbortController();
    const p = client.resolve({ name: 'slow' }, { signal: ac.signal });
    setImmediate(() => ac.abort());
    expect((await rejectionOf(p)).code).toBe('ERR_CANCELLED');
    const pre = new AbortController();
    pre.abort();
    expect((await rejectionOf(client.getChallenge({}, { signal: pre.signal }))).code).toBe('ERR_CANCELLED');
  });

  it.each([0, -1, Number.NaN])('rejects deadlineMs %s as a caller mistake (TypeError)', async (deadlineMs) => {
    await expect(client.getChallenge({}, { deadlineMs })).rejects.toThrow(TypeError);
  });
});

describe('size limits', () => {
  it('rejects a request above the default 4 MiB limit with RESOURCE_EXHAUSTED', async () => {
    const err = await rejectionOf(client.register({ launchToken: 'x'.repeat(4 * 1024 * 1024 + 1) }));
    expect(err.code).toBe('ERR_MESSAGE_TOO_LARGE');
    expect((err.cause as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('accepts a request just under a configured limit and rejects one just over', async () => {
    await expect(smallClient.register({ launchToken: 'x'.repeat(900) })).resolves.toBeDefined();
    const err = await rejectionOf(smallClient.register({ launchToken: 'x'.repeat(1100) }));
    expect((err.cause as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('fails a response above the send limit with RESOURCE_EXHAUSTED', async () => {
    const err = await rejectionOf(smallClient.publish({}));
    expect((err.cause as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it.each([
    ['configured 2 KiB', () => smallClient, 3 * 1024],
    ['default 16 KiB', () => client, 20 * 1024],
  ])('rejects metadata above the %s limit with ERR_METADATA_TOO_LARGE', async (_n, c, bytes) => {
    const err = await rejectionOf(c().getChallenge({}, { metadata: { authorization: `DPoP ${'a'.repeat(bytes)}` } }));
    expect(err.code).toBe('ERR_METADATA_TOO_LARGE');
    expect((err.cause as grpc.ServiceError).code).toBe(grpc.status.RESOURCE_EXHAUSTED);
  });

  it('accepts metadata under the limit', async () => {
    await expect(client.getChallenge({}, { metadata: { authorization: `DPoP ${'a'.repeat(8 * 1024)}` } })).resolves.toBeDefined();
  });
});

describe('interceptors', () => {
  it('runs server interceptors before handlers and client interceptors on every call', async () => {
    const serverSaw: string[] = [];
    const s = createServer({
      tracing: false,
      serverInterceptors: [
        (_desc, call) =>
          new grpc.ServerInterceptingCall(call, {
            start: (next) =>
              next({
                onReceiveMetadata: (md, mdNext) => {
                  serverSaw.push(String(md.get('x-added-by-client')[0]));
                  if (md.get('x-block').length > 0) {
                    call.sendStatus({ code: grpc.status.PERMISSION_DENIED, details: 'blocked' });
                    return;
                  }
                  mdNext(md);
                },
              }),
          }),
      ],
    });
    s.addService(IdentityService, impl as ServiceImpl<typeof IdentityService>);
    const c = createClient(IdentityService, await start(s), {
      interceptors: [
        (options, nextCall) =>
          new grpc.InterceptingCall(nextCall(options), {
            start: (md, listener, next) => {
              md.set('x-added-by-client', 'yes');
              next(md, listener);
            },
          }),
      ],
    });
    try {
      await c.getChallenge({});
      expect(serverSaw).toEqual(['yes']);
      const err = await rejectionOf(c.getChallenge({}, { metadata: { 'x-block': '1' } }));
      expect(err.code).toBe('ERR_PERMISSION_DENIED');
    } finally {
      c.close();
      await s.shutdown(100);
    }
  });
});

describe('createServer and createClient options', () => {
  it.each(['maxReceiveMessageBytes', 'maxMetadataBytes', 'keepaliveTimeMs'])('rejects a non-positive %s', (key) => {
    expect(() => createServer({ [key]: 0 })).toThrow(TypeError);
  });

  it('refuses to register a service twice', () => {
    expect(() => server.addService(IdentityService, impl as ServiceImpl<typeof IdentityService>)).toThrow(TypeError);
  });

  it('rejects invalid metadata keys as a caller mistake', async () => {
    await expect(client.getChallenge({}, { metadata: { 'Bad Key': 'v' } })).rejects.toThrow(TypeError);
  });
});
