import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFileRegistry, fromBinary } from '@bufbuild/protobuf';
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { create } from '@bufbuild/protobuf';
import { IdentityService } from './gen/baton/identity/v1/identity_pb.js';
import { AuditService } from './gen/baton/audit/v1/audit_pb.js';
import { Health, HealthCheckResponse_ServingStatus as S } from './gen/grpc/health/v1/health_pb.js';
import { ServerReflection } from './gen/grpc/reflection/v1/reflection_pb.js';
import type { ServerReflectionRequestSchema, ServerReflectionResponse } from './gen/grpc/reflection/v1/reflection_pb.js';
import type { MessageInitShape } from '@bufbuild/protobuf';
import { createClient } from './client.js';
import type { Client } from './client-types.js';
import type { ServiceImpl } from './handler-types.js';
import { createServer } from './server.js';
import type { BatonServer } from './server.js';
import { collectorService, rejectionOf, start } from './testing/fixtures.js';

let server: BatonServer;
let target: string;
let health: Client<typeof Health>;
let reflection: Client<typeof ServerReflection>;
const ID = 'baton.identity.v1.IdentityService';

beforeAll(async () => {
  server = createServer();
  server.addService(IdentityService, {} as ServiceImpl<typeof IdentityService>);
  server.addService(AuditService, {} as ServiceImpl<typeof AuditService>);
  target = await start(server);
  health = createClient(Health, target);
  reflection = createClient(ServerReflection, target);
});

afterAll(async () => {
  health.close();
  reflection.close();
  await server.shutdown(100);
});

describe('health', () => {
  it('reports the server and each registered service SERVING', async () => {
    expect((await health.check({ service: '' })).status).toBe(S.SERVING);
    expect((await health.check({ service: ID })).status).toBe(S.SERVING);
    const list = await health.list({});
    expect(Object.fromEntries(Object.entries(list.statuses).map(([k, v]) => [k, v.status]))).toEqual({
      '': S.SERVING,
      [ID]: S.SERVING,
      'baton.audit.v1.AuditService': S.SERVING,
    });
  });

  it('answers NOT_FOUND for an unknown service', async () => {
    expect((await rejectionOf(health.check({ service: 'no.such.Service' }))).code).toBe('ERR_NOT_FOUND');
  });

  it('reflects setServing in Check', async () => {
    server.setServing(ID, false);
    expect((await health.check({ service: ID })).status).toBe(S.NOT_SERVING);
    server.setServing(ID, true);
    expect((await health.check({ service: ID })).status).toBe(S.SERVING);
    expect(() => server.setServing('no.such.Service', true)).toThrow(TypeError);
  });

  it('Watch sends the current status, then each change; SERVICE_UNKNOWN for unknown names', async () => {
    const seen: S[] = [];
    const watch = health.watch({ service: ID })[Symbol.asyncIterator]();
    seen.push((await watch.next()).value!.status);
    server.setServing(ID, false);
    seen.push((await watch.next()).value!.status);
    server.setServing(ID, true);
    seen.push((await watch.next()).value!.status);
    await watch.return!(undefined);
    expect(seen).toEqual([S.SERVING, S.NOT_SERVING, S.SERVING]);

    const unknown = health.watch({ service: 'later.Service' })[Symbol.asyncIterator]();
    expect((await unknown.next()).value!.status).toBe(S.SERVICE_UNKNOWN);
    await unknown.return!(undefined);
  });
});

describe('reflection', () => {
  async function ask(...requests: Array<MessageInitShape<typeof ServerReflectionRequestSchema>>): Promise<ServerReflectionResponse[]> {
    const out: ServerReflectionResponse[] = [];
    for await (const r of reflection.serverReflectionInfo(requests)) out.push(r);
    return out;
  }

  function files(r: ServerReflectionResponse): string[] {
    if (r.messageResponse.case !== 'fileDescriptorResponse') throw new Error(`expected files, got ${r.messageResponse.case}`);
    return r.messageResponse.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name);
  }

  it('lists every service, including health and reflection', async () => {
    const [r] = await ask({ host: 'h', messageRequest: { case: 'listServices', value: '' } });
    expect(r!.validHost).toBe('h');
    expect(r!.messageResponse.case).toBe('listServicesResponse');
    const names = r!.messageResponse.case === 'listServicesResponse' ? r!.messageResponse.value.service.map((s) => s.name) : [];
    expect(names.sort()).toEqual(['baton.audit.v1.AuditService', ID, 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']);
  });

  it('answers file_containing_symbol with the file first, then its dependencies, and they parse', async () => {
    const [bySvc, byMethod, byMessage, byFile] = await ask(
      { messageRequest: { case: 'fileContainingSymbol', value: ID } },
      { messageRequest: { case: 'fileContainingSymbol', value: `${ID}.Register` } },
      { messageRequest: { case: 'fileContainingSymbol', value: 'baton.type.v1.Scope' } },
      { messageRequest: { case: 'fileByFilename', value: 'google/rpc/status.proto' } },
    );
    expect(files(bySvc!)).toEqual(['baton/identity/v1/identity.proto', 'baton/type/v1/scope.proto']);
    expect(files(byMethod!)[0]).toBe('baton/identity/v1/identity.proto');
    expect(files(byMessage!)).toEqual(['baton/type/v1/scope.proto']);
    // status.proto is not reachable from a registered service.
    expect(byFile!.messageResponse.case).toBe('errorResponse');

    // The returned descriptors are complete: a registry built from them alone resolves the service.
    const bytes = bySvc!.messageResponse.case === 'fileDescriptorResponse' ? bySvc!.messageResponse.value.fileDescriptorProto : [];
    const set = create(FileDescriptorSetSchema, { file: bytes.map((b) => fromBinary(FileDescriptorProtoSchema, b)).reverse() });
    const registry = createFileRegistry(set);
    const svc = registry.getService(ID);
    expect(svc?.methods.map((m) => m.name)).toContain('Register');
    expect(svc?.method['register']?.input.typeName).toBe('baton.identity.v1.RegisterRequest');
  });

  it('answers NOT_FOUND for unknown symbols and files, INVALID_ARGUMENT for an empty request', async () => {
    const [sym, file, empty] = await ask(
      { messageRequest: { case: 'fileContainingSymbol', value: 'no.such.Thing' } },
      { messageRequest: { case: 'fileByFilename', value: 'nope.proto' } },
      { messageRequest: { case: undefined } },
    );
    for (const r of [sym, file]) {
      expect(r!.messageResponse.case).toBe('errorResponse');
      expect(r!.messageResponse.value).toMatchObject({ errorCode: 5 });
    }
    expect(empty!.messageResponse.value).toMatchObject({ errorCode: 3 });
  });

  it('includes services added after listen, with a runtime-built descriptor', async () => {
    const Collector = collectorService();
    server.addService(Collector, {} as ServiceImpl<typeof Collector>);
    const [r] = await ask({ messageRequest: { case: 'fileContainingSymbol', value: 'test.v1.Collector' } });
    expect(files(r!)).toEqual(['test/v1/collector.proto', 'baton/audit/v1/audit.proto']);
    expect((await health.check({ service: 'test.v1.Collector' })).status).toBe(S.SERVING);
  });
});

describe('shutdown', () => {
  it('ends Watch streams with NOT_SERVING and completes', async () => {
    const s = createServer();
    s.addService(IdentityService, {} as ServiceImpl<typeof IdentityService>);
    const c = createClient(Health, await start(s));
    const statuses: S[] = [];
    const watching = (async () => {
      for await (const r of c.watch({ service: ID })) {
        statuses.push(r.status);
        if (statuses.length === 1) void s.shutdown(5_000);
      }
    })();
    await watching;
    expect(statuses).toEqual([S.SERVING, S.NOT_SERVING]);
    c.close();
  });
});
