/**
 * The authority's AuditService as a test drives it: appending as a resource server the
 * config lists (`resources`), reading as an operator, each call with its key proof.
 */
import { create, toBinary, type DescMessage, type DescMethod, type MessageInitShape } from '@bufbuild/protobuf';
import type { KeyPair } from '@baton/core';
import { keyProofMetadata } from '@baton/guard';
import { createClient, type Client } from '@baton/proto';
import { AuditService, VerifyRequestSchema } from '@baton/proto/baton/audit/v1/audit_pb.js';

export interface AuditAccess {
  readonly address: string;
  readonly client: Client<typeof AuditService>;
  /** A registered event source (may Append). */
  readonly source: KeyPair;
  /** An operator (may read). */
  readonly operator: KeyPair;
  keyProof<M extends DescMessage>(key: KeyPair, method: DescMethod, schema: M, request: MessageInitShape<M>): Record<string, string>;
  /** Entries in the log (as the log's own Verify counts them). */
  size(): Promise<number>;
  close(): void;
}

const keyProof = <M extends DescMessage>(key: KeyPair, method: DescMethod, schema: M, request: MessageInitShape<M>): Record<string, string> =>
  keyProofMetadata(key, method, toBinary(schema, create(schema, request)));

/** The audit service at `address`, appending as `source` and reading as `operator`. */
export function auditAt(address: string, source: KeyPair, operator: KeyPair): AuditAccess {
  const client = createClient(AuditService, address, { tracing: false });
  return {
    address,
    client,
    source,
    operator,
    keyProof,
    async size() {
      const req = {};
      return Number((await client.verify(req, { metadata: keyProof(operator, AuditService.method.verify, VerifyRequestSchema, req) })).entries);
    },
    close: () => client.close(),
  };
}
