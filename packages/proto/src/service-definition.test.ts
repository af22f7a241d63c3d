import { describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { AuditService } from './gen/baton/audit/v1/audit_pb.js';
import { IdentityService, RegisterRequestSchema } from './gen/baton/identity/v1/identity_pb.js';
import type { RegisterRequest } from './gen/baton/identity/v1/identity_pb.js';
import { ServerReflection } from './gen/grpc/reflection/v1/reflection_pb.js';
import { rawBytesOf } from './raw-bytes.js';
import { DECODE_FAILURE, createServiceDefinition } from './service-definition.js';
import { collectorService } from './testing/fixtures.js';

describe('createServiceDefinition', () => {
  it('derives paths and stream flags from the descriptor', () => {
    const flags = (def: ReturnType<typeof createServiceDefinition>) =>
      Object.fromEntries(Object.entries(def).map(([k, m]) => [k, [m.path, m.requestStream, m.responseStream]]));
    expect(flags(createServiceDefinition(AuditService))).toMatchObject({
      append: ['/baton.audit.v1.AuditService/Append', false, false],
      tail: ['/baton.audit.v1.AuditService/Tail', false, true],
    });
    expect(flags(createServiceDefinition(collectorService()))).toEqual({
      collect: ['/test.v1.Collector/Collect', true, false],
      echo: ['/test.v1.Collector/Echo', true, true],
    });
    expect(flags(createServiceDefinition(ServerReflection))).toEqual({
      serverReflectionInfo: ['/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', true, true],
    });
    expect(Object.keys(createServiceDefinition(IdentityService))).toHaveLength(IdentityService.methods.length);
  });

  it('encodes init objects and messages alike, and decodes keeping the raw bytes', () => {
    const m = createServiceDefinition(IdentityService)['register']!;
    const init = { launchToken: 'lt', nonce: new Uint8Array([9, 9]), name: 'n' };
    const a = m.requestSerialize(init);
    const b = m.requestSerialize(create(RegisterRequestSchema, init));
    expect(Buffer.isBuffer(a)).toBe(true);
    expect(a.equals(b)).toBe(true);
    expect(a.equals(Buffer.from(toBinary(RegisterRequestSchema, create(RegisterRequestSchema, init))))).toBe(true);
    const decoded = m.requestDeserialize(a) as RegisterRequest;
    expect(decoded.launchToken).toBe('lt');
    expect(rawBytesOf(decoded)).toBe(a);
    expect(Object.keys(decoded)).not.toContain('raw');
  });

  it.each([
    ['truncated length-delimited field', [0x0a, 0x05, 0x61]],
    ['invalid wire type', [0x0f]],
    ['field number zero', [0x00, 0x01]],
    ['overlong varint', [0x30, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['invalid UTF-8 in a string', [0x0a, 0x02, 0xc3, 0x28]],
  ])('turns an undecodable request (%s) into the decode-failure marker instead of throwing', (_n, bytes) => {
    const m = createServiceDefinition(IdentityService)['register']!;
    expect(m.requestDeserialize(Buffer.from(bytes))).toBe(DECODE_FAILURE);
  });
});
