// Consumers reach the generated code through package subpaths (built dist).
import { describe, expect, it } from 'vitest';
import { IdentityService, RegisterRequestSchema } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { Health } from '@baton/proto/grpc/health/v1/health_pb.js';
import { StatusSchema } from '@baton/proto/google/rpc/status_pb.js';
import { MetadataKey, createClient, createServer } from '@baton/proto';
import type { ServiceImpl } from '@baton/proto';

describe('package exports', () => {
  it('exposes generated code under baton/, grpc/ and google/ subpaths', () => {
    expect(IdentityService.typeName).toBe('baton.identity.v1.IdentityService');
    expect(RegisterRequestSchema.typeName).toBe('baton.identity.v1.RegisterRequest');
    expect(Health.typeName).toBe('grpc.health.v1.Health');
    expect(StatusSchema.typeName).toBe('google.rpc.Status');
    expect(MetadataKey.proof).toBe('baton-proof');
  });

  it('serves and calls a service built from the published entry points', async () => {
    const server = createServer({ tracing: false });
    server.addService(IdentityService, {
      async getChallenge() {
        return { nonce: new Uint8Array([5]) };
      },
    } as Partial<ServiceImpl<typeof IdentityService>> as ServiceImpl<typeof IdentityService>);
    const client = createClient(IdentityService, `127.0.0.1:${await server.listen()}`, { tracing: false });
    try {
      expect(Array.from((await client.getChallenge({})).nonce)).toEqual([5]);
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });
});
