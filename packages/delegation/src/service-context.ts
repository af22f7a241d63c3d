/**
 * What the delegation handlers share, and the two outbound call helpers: a Baton
 * service key proof over the exact request bytes, and the audit emitter.
 */
import { create, toBinary, type DescMessage, type MessageInitShape, type MessageShape } from '@bufbuild/protobuf';
import { createProof, sha256B64url, type AuditRecord, type AuditSink, type Clock, type KeyPair } from '@baton/core';
import { MetadataKey, type Client } from '@baton/proto';
import type { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { SqlDatabase } from '@baton/store';
import type { ChainResolver } from './chain-verifier.js';
import type { DelegatorGuard } from './options.js';

/** Shared state of one delegation service. Internal. */
export interface DelegationContext {
  readonly db: SqlDatabase;
  readonly clock: Clock;
  readonly audit: AuditSink;
  readonly issuer: string;
  readonly issuerClient: Client<typeof IssuerService>;
  readonly identityClient: Client<typeof IdentityService>;
  readonly serviceKey: KeyPair;
  readonly guard: DelegatorGuard;
  readonly leewaySeconds: number;
  readonly onlineCheck: boolean;
  readonly resolveChain: ChainResolver;
}

/**
 * A message and the `baton-proof` metadata for it: the proof's `rh` is the hash of the
 * very bytes the client will send (the message is built once and sent as is).
 */
export function withServiceProof<M extends DescMessage>(
  ctx: DelegationContext,
  method: string,
  schema: M,
  init: MessageInitShape<M>,
): { message: MessageShape<M>; metadata: Record<string, string> } {
  const message = create(schema, init);
  const proof = createProof({
    keyPair: ctx.serviceKey,
    htm: 'POST',
    htu: method,
    requestHash: sha256B64url(toBinary(schema, message)),
    nowMs: ctx.clock.now(),
  });
  return { message, metadata: { [MetadataKey.proof]: proof } };
}

/** Emits an audit record with delegation as its source. */
export function emit(ctx: DelegationContext, record: AuditRecord): Promise<void> {
  return ctx.audit.emit({ source: 'delegation', ...record });
}
