import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fromBinary } from '@bufbuild/protobuf';
import { anyUnpack } from '@bufbuild/protobuf/wkt';
import type * as grpc from '@grpc/grpc-js';
import { BatonError } from '@baton/core';
import { setupTracing, spanRecordOf } from '@baton/telemetry';
import type { SpanRecord, TracingHandle } from '@baton/telemetry';
import { IdentityService } from './gen/baton/identity/v1/identity_pb.js';
import { ProblemSchema } from './gen/baton/type/v1/problem_pb.js';
import { Health } from './gen/grpc/health/v1/health_pb.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';
import { createClient } from './client.js';
import type { Client } from './client-types.js';
import type { ServiceImpl } from './handler-types.js';
import { createServer } from './server.js';
import type { BatonServer } from './server.js';
import { rejectionOf, start } from './testing/fixtures.js';

let tracing: TracingHandle;
let server: BatonServer;
let client: Client<typeof IdentityService>;
let health: Client<typeof Health>;

const impl: Partial<ServiceImpl<typeof IdentityService>> = {
  async getChallenge() {
    return { nonce: new Uint8Array(32) };
  },
  async getWorkflow() {
    throw new BatonError('ERR_WORKFLOW_NOT_FOUND', 'nope');
  },
};

beforeAll(async () => {
  tracing = setupTracing({ serviceName: 'proto-test', exporter: 'memory' });
  server = createServer();
  server.addService(IdentityService, impl as ServiceImpl<typeof IdentityService>);
  const target = await start(server);
  client = createClient(IdentityService, target);
  health = createClient(Health, target);
});

afterAll(async () => {
  client.close();
  health.close();
  await server.shutdown(100);
  await tracing.shutdown();
});

beforeEach(() => tracing.memoryExporter!.reset());

function spans(): SpanRecord[] {
  return tracing.memoryExporter!.getFinishedSpans().map(spanRecordOf);
}

describe('tracing through the adapter', () => {
  it('a client and server span pair share one trace, the server span a child of the client span', async () => {
    await client.getChallenge({});
    const all = spans();
    const c = all.find((s) => s.kind === 'CLIENT');
    const s = all.find((x) => x.kind === 'SERVER');
    expect(c?.name).toBe('baton.identity.v1.IdentityService/GetChallenge');
    expect(s?.name).toBe('baton.identity.v1.IdentityService/GetChallenge');
    expect(s!.traceId).toBe(c!.traceId);
    expect(s!.parentSpanId).toBe(c!.spanId);
    for (const span of [c!, s!]) {
      expect(span.attributes).toMatchObject({
        'rpc.system': 'grpc',
        'rpc.service': 'baton.identity.v1.IdentityService',
        'rpc.method': 'GetChallenge',
        'rpc.grpc.status_code': 0,
      });
    }
  });

  it('records the error code on both spans and puts the trace id in the Problem', async () => {
    const err = await rejectionOf(client.getWorkflow({ id: 'x' }));
    expect(err.code).toBe('ERR_WORKFLOW_NOT_FOUND');
    const all = spans();
    const s = all.find((x) => x.kind === 'SERVER')!;
    const c = all.find((x) => x.kind === 'CLIENT')!;
    expect(s.attributes['baton.error.code']).toBe('ERR_WORKFLOW_NOT_FOUND');
    expect(c.attributes['baton.error.code']).toBe('ERR_WORKFLOW_NOT_FOUND');
    expect(c.attributes['rpc.grpc.status_code']).toBe(5);
    const md = (err.cause as grpc.ServiceError).metadata;
    const status = fromBinary(StatusSchema, md.get('grpc-status-details-bin')[0] as Buffer);
    expect(anyUnpack(status.details[0]!, ProblemSchema)!.traceId).toBe(s.traceId);
  });

  it('does not trace health checks on the server', async () => {
    await health.check({ service: '' });
    expect(spans().filter((s) => s.kind === 'SERVER')).toEqual([]);
  });

  it('can be turned off per client', async () => {
    const quiet = createClient(IdentityService, client.grpcClient.getChannel(), { tracing: false });
    await quiet.getChallenge({});
    const all = spans();
    expect(all.filter((s) => s.kind === 'CLIENT')).toEqual([]);
    expect(all.filter((s) => s.kind === 'SERVER')[0]?.parentSpanId).toBeUndefined();
    quiet.close();
  });
});
