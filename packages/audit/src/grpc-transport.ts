/**
 * How the audit client ships batches: `AuditService.Append` over gRPC, each call carrying
 * a `baton-proof` key proof over the exact request bytes (`rh`).
 */
import { BatonError, createProof, sha256B64url, systemClock, type Clock, type KeyPair } from '@baton/core';
import { create, toBinary } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';
import { MetadataKey, createClient, type Client } from '@baton/proto';
import { AppendRequestSchema, AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import type { AppendResult } from './audit-log.js';
import type { AuditEventInput } from './event.js';
import { appendResultFromProto, eventToProto } from './proto-convert.js';

/** Delivers a batch to the log and returns one result per event, in order. */
export interface AuditTransport {
  append(events: readonly AuditEventInput[]): Promise<AppendResult[]>;
  close?(): void;
}

/** Options of {@link grpcAuditTransport}. */
export interface GrpcAuditTransportOptions {
  /** `host:port` of the audit service (or pass `client`). */
  readonly target?: string;
  /** An existing AuditService client (not closed by the transport). */
  readonly client?: Client<typeof AuditService>;
  /** Channel credentials for `target`. Default insecure (loopback only). */
  readonly credentials?: grpc.ChannelCredentials;
  /** The emitting service's key; its thumbprint must be registered with the audit service. */
  readonly keyPair: KeyPair;
  readonly clock?: Clock;
  /** Per-call deadline. Default 10 000 ms. */
  readonly deadlineMs?: number;
  /** Longest wait between reconnection attempts. Default 5000 ms (grpc-js' own is 120 s). */
  readonly maxReconnectBackoffMs?: number;
}

const APPEND_PATH = `/${AuditService.typeName}/${AuditService.method.append.name}`;

/**
 * A transport over gRPC.
 *
 * @example const transport = grpcAuditTransport({ target: 'authority:7443', credentials, keyPair: serviceKey });
 */
export function grpcAuditTransport(options: GrpcAuditTransportOptions): AuditTransport {
  if (!options.client && !options.target) throw new TypeError('grpcAuditTransport needs a target or a client');
  const clock = options.clock ?? systemClock;
  const backoff = options.maxReconnectBackoffMs ?? 5000;
  const client =
    options.client ??
    createClient(AuditService, options.target!, {
      ...(options.credentials ? { credentials: options.credentials } : {}),
      channelOptions: { 'grpc.initial_reconnect_backoff_ms': Math.min(100, backoff), 'grpc.max_reconnect_backoff_ms': backoff },
    });
  return {
    async append(events) {
      // Serialize once: the proof's rh covers these exact bytes, which the client sends as-is.
      const request = create(AppendRequestSchema, { events: events.map(eventToProto) });
      const bytes = toBinary(AppendRequestSchema, request);
      const proof = createProof({ keyPair: options.keyPair, htm: 'POST', htu: APPEND_PATH, requestHash: sha256B64url(bytes), nowMs: clock.now() });
      const res = await client.append(request, { metadata: { [MetadataKey.proof]: proof }, deadlineMs: options.deadlineMs ?? 10_000 });
      if (res.results.length !== events.length) throw new BatonError('ERR_INTERNAL', 'audit service answered a different number of results');
      return res.results.map(appendResultFromProto);
    },
    close() {
      if (!options.client) client.close();
    },
  };
}
