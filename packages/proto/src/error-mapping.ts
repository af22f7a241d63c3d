import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import { Metadata } from '@grpc/grpc-js';
import type { StatusObject } from '@grpc/grpc-js';
import {
  BatonError,
  ERROR_CODES,
  codeFromGrpcStatus,
  codeFromProblemType,
  grpcStatusOf,
  httpStatusOf,
  isBatonError,
  isErrorCode,
  problemType,
} from '@baton/core';
import type { ErrorCode } from '@baton/core';
import { ProblemSchema } from './gen/baton/type/v1/problem_pb.js';
import { StatusSchema } from './gen/google/rpc/status_pb.js';
import { MetadataKey } from './metadata-keys.js';

/**
 * The one place a failure becomes a gRPC status: a {@link BatonError} keeps its code, with
 * the generic title as the message; anything else becomes ERR_INTERNAL so nothing internal
 * leaks. Trailers carry `grpc-status-details-bin` (a `google.rpc.Status` whose detail is a
 * `baton.type.v1.Problem`) and `baton-error-code`. The precise `detail` is never sent.
 */
export function statusFromError(err: unknown, extra?: { traceId?: string | undefined; trailers?: Metadata | undefined }): StatusObject {
  const code: ErrorCode = isBatonError(err) ? err.code : 'ERR_INTERNAL';
  const info = ERROR_CODES[code];
  const problem = create(ProblemSchema, {
    type: problemType(code),
    title: info.title,
    status: httpStatusOf(code),
    code,
    traceId: extra?.traceId ?? '',
  });
  const status = create(StatusSchema, {
    code: grpcStatusOf(code),
    message: info.title,
    details: [anyPack(ProblemSchema, problem)],
  });
  const metadata = extra?.trailers ? extra.trailers.clone() : new Metadata();
  const bytes = toBinary(StatusSchema, status);
  metadata.set(MetadataKey.statusDetails, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  metadata.set(MetadataKey.errorCode, code);
  return { code: grpcStatusOf(code), details: info.title, metadata };
}

interface GrpcErrorLike {
  code: number;
  details?: unknown;
  metadata?: unknown;
}

function isGrpcError(err: unknown): err is GrpcErrorLike {
  return typeof err === 'object' && err !== null && typeof (err as GrpcErrorLike).code === 'number' && Number.isInteger((err as GrpcErrorLike).code);
}

/** The Baton code in a status-details trailer, if it holds a Baton problem. */
function codeFromDetails(metadata: Metadata): ErrorCode | undefined {
  const raw = metadata.get(MetadataKey.statusDetails)[0];
  if (!Buffer.isBuffer(raw)) return undefined;
  try {
    const status = fromBinary(StatusSchema, raw);
    for (const any of status.details) {
      const problem = anyUnpack(any, ProblemSchema);
      if (!problem) continue;
      if (isErrorCode(problem.code)) return problem.code;
      const fromType = codeFromProblemType(problem.type);
      if (fromType) return fromType;
    }
  } catch {
    // Malformed details from the peer: fall back to the other signals.
  }
  return undefined;
}

/**
 * Turn a failed gRPC call into a {@link BatonError} with the remote code: taken from the
 * Problem in `grpc-status-details-bin`, else the `baton-error-code` trailer, else derived
 * from the gRPC status (`codeFromGrpcStatus`). Non-gRPC errors become ERR_INTERNAL.
 */
export function errorFromGrpc(err: unknown): BatonError {
  if (isBatonError(err)) return err;
  if (isGrpcError(err)) {
    const md = err.metadata instanceof Metadata ? err.metadata : undefined;
    let code = md ? codeFromDetails(md) : undefined;
    if (!code && md) {
      const trailer = md.get(MetadataKey.errorCode)[0];
      if (isErrorCode(trailer)) code = trailer;
    }
    code ??= codeFromGrpcStatus(err.code);
    const details = typeof err.details === 'string' ? err.details.slice(0, 200) : '';
    return new BatonError(code, `remote status ${err.code}${details ? `: ${details}` : ''}`, { cause: err });
  }
  return new BatonError('ERR_INTERNAL', 'call failed without a gRPC status', { cause: err });
}
