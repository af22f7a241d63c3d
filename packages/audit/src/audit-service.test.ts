import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReplayCache, createProof, generateKeyPair, jwkThumbprint, sha256B64url, type KeyPair } from '@baton/core';
import { MetadataKey, createClient, createServer, type BatonServer, type Client } from '@baton/proto';
import {
  AppendRequestSchema,
  AppendResult_Status,
  AuditService,
  QueryRequestSchema,
  VerifyRequestSchema,
} from '@baton/proto/baton/audit/v1/audit_pb.js';
import { create, toBinary, type DescMessage, type MessageInitShape } from '@bufbuild/protobuf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog, type AuditLog } from './audit-log.js';
import { createAuditService } from './audit-service.js';
import { keyProofAuthorizer } from './key-proof-authorizer.js';
import { checkConsistency, checkInclusionProof } from './prove.js';
import { eventToProto } from './proto-convert.js';
import { createSanitizer } from './sanitizer.js';
import { createNoteSigner } from './signed-note.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import type { AuditStore } from './store.js';
import { inputEvent } from './testing/fixtures.js';

const origin = 'baton.test/audit';
const signer = createNoteSigner(origin, generateKeyPair());
const sourceKey = generateKeyPair();
const operatorKey = generateKeyPair();
const strangerKey = generateKeyPair();
const path = (m: { name: string }) => `/${AuditService.typeName}/${m.name}`;

/** A message plus `baton-proof` metadata over its exact bytes. */
function signed<S extends DescMessage>(schema: S, init: MessageInitShape<S>, method: { name: string }, key: KeyPair) {
  const msg = create(schema, init);
  const proof = createProof({ keyPair: key, htm: 'POST', htu: path(method), requestHash: sha256B64url(toBinary(schema, msg)) });
  return { msg, metadata: { [MetadataKey.proof]: proof } };
}

let dir: string;
let store: AuditStore;
let log: AuditLog;
let server: BatonServer;
let closed: BatonServer;
let client: Client<typeof AuditService>;
let closedClient: Client<typeof AuditService>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-svc-'));
  store = await createSqliteAuditStore({ path: join(dir, 'audit.db') });
  log = createAuditLog({ store, signer, origin, sanitizer: createSanitizer({ key: randomBytes(32) }), checkpointIntervalMs: 0 });
  const replayCache = new ReplayCache();
  const allowed = (keys: KeyPair[]) => (jkt: string) => keys.some((k) => jwkThumbprint(k.publicJwk) === jkt);
  server = createServer({ tracing: false });
  server.addService(
    AuditService,
    createAuditService(log, {
      authorizeAppend: keyProofAuthorizer({ isAllowed: allowed([sourceKey]), replayCache }),
      authorizeRead: keyProofAuthorizer({ isAllowed: allowed([operatorKey]), replayCache }),
      tailPollMs: 50,
    }),
  );
  client = createClient(AuditService, `127.0.0.1:${await server.listen()}`, { tracing: false });
  closed = createServer({ tracing: false });
  closed.addService(AuditService, createAuditService(log));
  closedClient = createClient(AuditService, `127.0.0.1:${await closed.listen()}`, { tracing: false });
});

afterAll(async () => {
  client.close();
  closedClient.close();
  await server.shutdown(100);
  await closed.shutdown(100);
  await log.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const append = (events: ReturnType<typeof inputEvent>[], key = sourceKey) => {
  const { msg, metadata } = signed(AppendRequestSchema, { events: events.map(eventToProto) }, AuditService.method.append, key);
  return client.append(msg, { metadata });
};

describe('AuditService over gRPC', () => {
  it('appends a batch from a registered source, rejecting bad events one by one', async () => {
    const good = inputEvent();
    const res = await append([good, inputEvent({ type: 'nope' }), inputEvent({ attributes: { status: 'x'.repeat(4096) } }), good]);
    expect(res.results.map((r) => [r.status, r.code])).toEqual([
      [AppendResult_Status.ACCEPTED, ''],
      [AppendResult_Status.REJECTED, 'ERR_AUDIT_EVENT_INVALID'],
      [AppendResult_Status.REJECTED, 'ERR_MESSAGE_TOO_LARGE'],
      [AppendResult_Status.DUPLICATE, ''],
    ]);
    expect(res.results[3]!.sequence).toBe(res.results[0]!.sequence);
  });

  it('refuses appends without a valid proof from a registered key', async () => {
    const events = [eventToProto(inputEvent())];
    await expect(client.append({ events })).rejects.toMatchObject({ code: 'ERR_PROOF_MISSING' });
    await expect(append([inputEvent()], strangerKey)).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    // A proof over other bytes.
    const other = signed(AppendRequestSchema, { events }, AuditService.method.append, sourceKey);
    await expect(client.append({ events: [eventToProto(inputEvent())] }, { metadata: other.metadata })).rejects.toMatchObject({
      code: 'ERR_PROOF_REQUEST_MISMATCH',
    });
    // The same proof twice.
    const once = signed(AppendRequestSchema, { events: [eventToProto(inputEvent())] }, AuditService.method.append, sourceKey);
    await client.append(once.msg, { metadata: once.metadata });
    await expect(client.append(once.msg, { metadata: once.metadata })).rejects.toMatchObject({ code: 'ERR_PROOF_REPLAYED' });
    // No authorizer configured: default deny.
    const ok = signed(AppendRequestSchema, { events }, AuditService.method.append, sourceKey);
    await expect(closedClient.append(ok.msg, { metadata: ok.metadata })).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    await expect(closedClient.query({})).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
  });

  it('queries with filters and page tokens for operators only', async () => {
    await append(Array.from({ length: 5 }, () => inputEvent({ workflow: 'svc-query' })));
    const seen: bigint[] = [];
    let pageToken = '';
    do {
      const q = signed(QueryRequestSchema, { filter: { workflow: 'svc-query' }, pageSize: 2, pageToken }, AuditService.method.query, operatorKey);
      const page = await client.query(q.msg, { metadata: q.metadata });
      seen.push(...page.entries.map((e) => e.sequence));
      expect(page.entries.every((e) => e.event?.workflow === 'svc-query')).toBe(true);
      pageToken = page.nextPageToken;
    } while (pageToken);
    expect(seen).toHaveLength(5);
    const bySource = signed(QueryRequestSchema, { filter: { workflow: 'svc-query' } }, AuditService.method.query, sourceKey);
    await expect(client.query(bySource.msg, { metadata: bySource.metadata })).rejects.toMatchObject({ code: 'ERR_PERMISSION_DENIED' });
    const badType = signed(QueryRequestSchema, { filter: { type: 'token.exploded' } }, AuditService.method.query, operatorKey);
    await expect(client.query(badType.msg, { metadata: badType.metadata })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('streams new entries to a tail', async () => {
    const ac = new AbortController();
    const tailReq = { filter: { task: 'svc-tail' } };
    const proof = createProof({ keyPair: operatorKey, htm: 'POST', htu: path(AuditService.method.tail), requestHash: sha256B64url(new Uint8Array(toBinary(AuditService.method.tail.input, create(AuditService.method.tail.input, tailReq)))) });
    const got: string[] = [];
    const reading = (async () => {
      for await (const m of client.tail(tailReq, { metadata: { [MetadataKey.proof]: proof }, signal: ac.signal })) {
        got.push(m.entry!.event!.eventId);
        if (got.length === 2) ac.abort();
      }
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const a = inputEvent({ task: 'svc-tail' });
    const b = inputEvent({ task: 'svc-tail' });
    await append([a, inputEvent({ task: 'other' }), b]);
    await reading;
    expect(got).toEqual([a.eventId, b.eventId]);
  });

  it('serves checkpoints and proofs that verify offline', async () => {
    await append(Array.from({ length: 3 }, () => inputEvent()));
    const cp1 = await client.getCheckpoint({});
    await append(Array.from({ length: 4 }, () => inputEvent()));
    // An entry past the latest checkpoint: the service signs a newer one for the proof.
    const p = await client.getInclusionProof({ sequence: cp1.treeSize + 2n });
    const verified = checkInclusionProof(
      { leafIndex: Number(p.leafIndex), treeSize: Number(p.treeSize), leafHash: p.leafHash, hashes: p.hashes, checkpoint: p.checkpoint },
      signer.verifier!,
      { origin },
    );
    expect(verified.size).toBeGreaterThan(Number(cp1.treeSize));
    const c = await client.getConsistencyProof({ firstSize: cp1.treeSize, secondSize: p.treeSize });
    expect(checkConsistency(cp1.checkpoint, p.checkpoint, c.hashes, signer.verifier!).newer.size).toBe(Number(p.treeSize));
    await expect(client.getInclusionProof({ sequence: 0n })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(client.getInclusionProof({ sequence: 2n ** 60n })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(client.getConsistencyProof({ firstSize: 5n, secondSize: 10n ** 6n })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('verifies the log on request', async () => {
    const v = signed(VerifyRequestSchema, {}, AuditService.method.verify, operatorKey);
    const r = await client.verify(v.msg, { metadata: v.metadata });
    expect(r.ok).toBe(true);
    expect(Number(r.entries)).toBe(await log.size());
    expect(r.rootHash.length).toBe(32);
    expect(r.problem).toBe('');
  });
});
