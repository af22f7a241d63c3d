import { describe, expect, it } from 'vitest';
import { create, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { fromBinary } from '@bufbuild/protobuf';
import { Metadata, status as Status } from '@grpc/grpc-js';
import { BatonError, ERROR_CODES } from '@baton/core';
import type { ErrorCode } from '@baton/core';
import { ProblemSchema } from './gen/baton/type/v1/problem_pb.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';
import { HealthCheckRequestSchema } from './gen/grpc/health/v1/health_pb.js';
import { errorFromGrpc, statusFromError } from './error-mapping.js';

function grpcError(code: number, md: Metadata = new Metadata(), details = 'x'): Error & { code: number; details: string; metadata: Metadata } {
  return Object.assign(new Error(details), { code, details, metadata: md });
}

function detailsWith(problem: { code?: string; type?: string }): Buffer {
  const status = create(StatusSchema, { code: 7, message: 'm', details: [anyPack(ProblemSchema, create(ProblemSchema, problem))] });
  return Buffer.from(toBinary(StatusSchema, status));
}

describe('statusFromError', () => {
  it('maps every Baton code to its gRPC status and generic title, never the detail', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      const s = statusFromError(new BatonError(code, 'precise secret reason'));
      expect(s.code).toBe(ERROR_CODES[code].grpc);
      expect(s.details).toBe(ERROR_CODES[code].title);
      expect(s.metadata.get('baton-error-code')).toEqual([code]);
      const status = fromBinary(StatusSchema, s.metadata.get('grpc-status-details-bin')[0] as Buffer);
      const problem = anyUnpack(status.details[0]!, ProblemSchema)!;
      expect(problem.code).toBe(code);
      expect(problem.status).toBe(ERROR_CODES[code].http);
      expect(JSON.stringify(s.metadata.toJSON())).not.toContain('precise secret reason');
      expect(errorFromGrpc(grpcError(s.code, s.metadata, s.details)).code).toBe(code);
    }
  });

  it.each([
    ['plain Error', new Error('db password=hunter2')],
    ['string', 'hunter2'],
    ['TypeError', new TypeError('hunter2')],
    ['fake BatonError with unknown code', Object.assign(new Error('hunter2'), { name: 'BatonError', code: 'ERR_MADE_UP' })],
  ])('maps a %s to INTERNAL without leaking it', (_n, err) => {
    const s = statusFromError(err);
    expect(s.code).toBe(Status.INTERNAL);
    expect(s.details).toBe('Internal error');
    expect(JSON.stringify(s.metadata.toJSON())).not.toContain('hunter2');
  });
});

describe('errorFromGrpc', () => {
  it.each<[string, () => unknown, ErrorCode]>([
    ['problem code wins', () => grpcError(7, md({ details: detailsWith({ code: 'ERR_SCOPE_ESCALATION' }), trailer: 'ERR_SCOPE_DENIED' })), 'ERR_SCOPE_ESCALATION'],
    ['problem type when code is unknown', () => grpcError(16, md({ details: detailsWith({ code: 'ERR_NOPE', type: 'urn:baton:error:token-expired' }) })), 'ERR_TOKEN_EXPIRED'],
    ['trailer when details are garbage', () => grpcError(16, md({ details: Buffer.from([0xff, 0xff, 0xff]), trailer: 'ERR_PROOF_REPLAYED' })), 'ERR_PROOF_REPLAYED'],
    ['trailer when details hold another type', () => grpcError(16, md({ details: otherDetails(), trailer: 'ERR_NONCE_EXPIRED' })), 'ERR_NONCE_EXPIRED'],
    ['status when the trailer is not a Baton code', () => grpcError(14, md({ trailer: 'ERR_NOT_A_CODE' })), 'ERR_UNAVAILABLE'],
    ['status without metadata', () => ({ code: 4 }), 'ERR_DEADLINE_EXCEEDED'],
    ['RESOURCE_EXHAUSTED from grpc-js', () => grpcError(8), 'ERR_MESSAGE_TOO_LARGE'],
    ['UNIMPLEMENTED', () => grpcError(12), 'ERR_INTERNAL'],
    ['a non-gRPC error', () => new Error('boom'), 'ERR_INTERNAL'],
    ['null', () => null, 'ERR_INTERNAL'],
  ])('%s', (_n, make, expected) => {
    const e = errorFromGrpc(make());
    expect(e).toBeInstanceOf(BatonError);
    expect(e.code).toBe(expected);
  });

  it('returns a BatonError unchanged', () => {
    const e = new BatonError('ERR_TOKEN_REVOKED');
    expect(errorFromGrpc(e)).toBe(e);
  });
});

function md(o: { details?: Buffer; trailer?: string }): Metadata {
  const m = new Metadata();
  if (o.details) m.set('grpc-status-details-bin', o.details);
  if (o.trailer) m.set('baton-error-code', o.trailer);
  return m;
}

function otherDetails(): Buffer {
  const status = create(StatusSchema, { code: 16, details: [anyPack(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service: 'ERR_TOKEN_EXPIRED' }))] });
  return Buffer.from(toBinary(StatusSchema, status));
}
