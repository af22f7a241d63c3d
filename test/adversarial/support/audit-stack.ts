/**
 * The AuditService on a real socket, composed the way an authority hosts it: SQLite store,
 * signed checkpoints, sanitizer, and key-proof authorization (a registered source may
 * append, an operator may read). Used until the authority hosts audit itself.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { create, toBinary, type DescMessage, type DescMethod, type MessageInitShape } from '@bufbuild/protobuf';
import { ReplayCache, generateKeyPair, type KeyPair } from '@baton/core';
import { createAuditLog, createAuditService, createNoteSigner, createSanitizer, createSqliteAuditStore, keyProofAuthorizer } from '@baton/audit';
import { keyProofMetadata } from '@baton/guard';
import { createClient, createServer, type Client } from '@baton/proto';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';

export const AUDIT_ORIGIN = 'baton.local/audit';

export interface AuditStack {
  readonly address: string;
  readonly client: Client<typeof AuditService>;
  /** A registered event source (may Append). */
  readonly source: KeyPair;
  /** An operator (may read). */
  readonly operator: KeyPair;
  keyProof<M extends DescMessage>(key: KeyPair, method: DescMethod, schema: M, request: MessageInitShape<M>): Record<string, string>;
  /** Entries in the log. */
  size(): Promise<number>;
  close(): Promise<void>;
}

export async function startAuditStack(): Promise<AuditStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-adv-audit-'));
  const store = await createSqliteAuditStore({ path: path.join(dir, 'audit.db') });
  const log = createAuditLog({
    store,
    signer: createNoteSigner(AUDIT_ORIGIN, generateKeyPair()),
    origin: AUDIT_ORIGIN,
    sanitizer: createSanitizer({ key: crypto.randomBytes(32) }),
    checkpointIntervalMs: 0,
  });
  const source = generateKeyPair();
  const operator = generateKeyPair();
  const replayCache = new ReplayCache();
  const server = createServer({ tracing: false });
  server.addService(
    AuditService,
    createAuditService(log, {
      authorizeAppend: keyProofAuthorizer({ isAllowed: (jkt) => jkt === source.thumbprint, replayCache }),
      authorizeRead: keyProofAuthorizer({ isAllowed: (jkt) => jkt === operator.thumbprint, replayCache }),
      tailPollMs: 50,
    }),
  );
  const address = `127.0.0.1:${await server.listen('127.0.0.1:0')}`;
  const client = createClient(AuditService, address, { tracing: false });
  return {
    address,
    client,
    source,
    operator,
    keyProof: (key, method, schema, request) => keyProofMetadata(key, method, toBinary(schema, create(schema, request))),
    async size() {
      return (await log.checkpoint()).size;
    },
    async close() {
      client.close();
      await server.shutdown(0);
      await log.close();
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
