import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatonError, ReplayCache, generateKeyPair, jwkThumbprint } from '@baton/core';
import { createServer, type BatonServer } from '@baton/proto';
import { AuditService } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuditClient, type AuditAlarm, type AuditClient } from './audit-client.js';
import { createAuditLog, type AuditLog } from './audit-log.js';
import { createAuditService } from './audit-service.js';
import type { AuditEntry } from './event.js';
import { grpcAuditTransport, type AuditTransport } from './grpc-transport.js';
import { keyProofAuthorizer } from './key-proof-authorizer.js';
import { createSanitizer } from './sanitizer.js';
import { createNoteSigner } from './signed-note.js';
import { createSqliteAuditStore } from './sqlite-store.js';
import type { AuditStore } from './store.js';
import { inputEvent } from './testing/fixtures.js';

const origin = 'baton.test/audit';
const signer = createNoteSigner(origin, generateKeyPair());
let dir: string;
let store: AuditStore;
let log: AuditLog;
const clients: AuditClient[] = [];

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'baton-client-'));
  store = await createSqliteAuditStore({ path: join(dir, 'audit.db') });
  log = createAuditLog({ store, signer, origin, sanitizer: createSanitizer({ key: randomBytes(32) }), checkpointIntervalMs: 0 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await log.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const all = async (): Promise<AuditEntry[]> => {
  const out: AuditEntry[] = [];
  for await (const e of store.entries()) out.push(e);
  return out;
};
const open = async (transport: AuditTransport, over: Partial<Parameters<typeof createAuditClient>[0]> = {}) => {
  const c = await createAuditClient({ transport, spoolDir: join(dir, 'spool'), source: 'issuer', retryInitialMs: 5, retryMaxMs: 50, ...over });
  clients.push(c);
  return c;
};
const direct = (): AuditTransport => ({ append: (events) => log.append(events) });
const down = (): AuditTransport => ({
  append: async () => {
    throw new BatonError('ERR_UNAVAILABLE', 'down');
  },
});

describe('audit client', () => {
  it('fills id, time and source, and delivers in emit order', async () => {
    const c = await open(direct());
    for (let i = 0; i < 30; i++) await c.emit({ type: 'token.issued', outcome: 'allow', resource: `r${i}` });
    expect(await c.drain()).toBe(true);
    const entries = await all();
    expect(entries.map((e) => e.event.resource)).toEqual(Array.from({ length: 30 }, (_, i) => `r${i}`));
    expect(entries.every((e) => e.event.source === 'issuer' && e.event.eventId.length >= 16)).toBe(true);
    expect(c.stats()).toMatchObject({ delivered: 30, spooledEvents: 0, spooledBytes: 0 });
  });

  it('rejects a malformed event at the source, before spooling', async () => {
    const c = await open(direct());
    await expect(c.emit({ type: 'token.exploded', outcome: 'info' })).rejects.toMatchObject({ code: 'ERR_AUDIT_EVENT_INVALID' });
    await expect(c.emit({ type: 'token.issued', outcome: 'allow', attributes: { status: 'x'.repeat(5000) } })).rejects.toMatchObject({ code: 'ERR_MESSAGE_TOO_LARGE' });
    expect(c.stats().spooledEvents).toBe(0);
  });

  it('keeps events on disk while the service is down and replays them in order after a restart', async () => {
    const first = await open(down());
    const events = Array.from({ length: 25 }, () => inputEvent());
    for (const e of events) await first.emit(e);
    expect(first.stats().spooledEvents).toBe(25);
    await first.close();
    clients.splice(clients.indexOf(first), 1);
    const second = await open(direct());
    expect(await second.drain()).toBe(true);
    expect((await all()).map((e) => e.event.eventId)).toEqual(events.map((e) => e.eventId));
  });

  it('resends after a lost reply without duplicating entries', async () => {
    let lost = 0;
    const flaky: AuditTransport = {
      async append(events) {
        const r = await log.append(events);
        if (lost++ < 2) throw new BatonError('ERR_DEADLINE_EXCEEDED', 'reply lost');
        return r;
      },
    };
    const c = await open(flaky);
    const events = Array.from({ length: 10 }, () => inputEvent());
    for (const e of events) await c.emit(e);
    expect(await c.drain()).toBe(true);
    expect((await all()).map((e) => e.event.eventId)).toEqual(events.map((e) => e.eventId));
    expect(c.stats().duplicates).toBeGreaterThan(0);
  });

  it('refuses events when the spool is full: metric and alarm, never a silent drop', async () => {
    const alarms: AuditAlarm[] = [];
    const c = await open(down(), { maxSpoolBytes: 4000, onAlarm: (a) => alarms.push(a) });
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) await c.emit(inputEvent()).catch((err: unknown) => (refused = err));
    expect(refused).toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect(c.stats().refused).toBe(1);
    expect(alarms.some((a) => a.kind === 'spool_full')).toBe(true);
    expect(alarms.some((a) => a.kind === 'send_failing')).toBe(true);
  });

  it('raises an alarm for an event the service refuses for good, and moves on', async () => {
    const alarms: AuditAlarm[] = [];
    const refusing: AuditTransport = { append: async (events) => events.map((e) => ({ eventId: e.eventId, status: 'rejected', sequence: 0, code: 'ERR_AUDIT_EVENT_INVALID' })) };
    const c = await open(refusing, { onAlarm: (a) => alarms.push(a) });
    await c.emit(inputEvent());
    expect(await c.drain()).toBe(true);
    expect(alarms).toEqual([expect.objectContaining({ kind: 'rejected', code: 'ERR_AUDIT_EVENT_INVALID' })]);
    expect(c.stats().rejected).toBe(1);
  });

  it('aggregates repetitive successful reads into one entry', async () => {
    const c = await open(direct(), { aggregateReads: { windowMs: 60_000 } });
    const read = { type: 'validation.allowed' as const, outcome: 'allow' as const, agent: 'spiffe://t/agent/o/t/aaaaaaaaaaaaaaaa', action: 'read', resource: 'invoice' };
    for (let i = 0; i < 100; i++) await c.emit({ ...read, time: 1000 + i });
    await c.emit({ ...read, type: 'validation.denied', outcome: 'deny', reasonCode: 'ERR_SCOPE_DENIED' });
    expect(await c.drain()).toBe(true);
    const entries = await all();
    expect(entries.map((e) => [e.event.type, e.event.count])).toEqual([
      ['validation.denied', 1],
      ['validation.allowed', 100],
    ]);
    expect(entries[1]!.event).toMatchObject({ firstTime: 1000, lastTime: 1099 });
  });
});

describe('outage of the audit service over gRPC', () => {
  let server: BatonServer | undefined;
  afterEach(async () => {
    await server?.shutdown(100);
  });

  it('spools while the server is down and delivers everything exactly once, in order, when it returns', async () => {
    const key = generateKeyPair();
    const start = async (port: number) => {
      const s = createServer({ tracing: false });
      s.addService(
        AuditService,
        createAuditService(log, { authorizeAppend: keyProofAuthorizer({ isAllowed: (jkt) => jkt === jwkThumbprint(key.publicJwk), replayCache: new ReplayCache() }) }),
      );
      return { s, port: await s.listen(`127.0.0.1:${port}`) };
    };
    const up = await start(0);
    server = up.s;
    const c = await open(grpcAuditTransport({ target: `127.0.0.1:${up.port}`, keyPair: key, maxReconnectBackoffMs: 200, deadlineMs: 2000 }));
    const events = Array.from({ length: 120 }, () => inputEvent());
    for (const e of events.slice(0, 40)) await c.emit(e);
    expect(await c.drain()).toBe(true);

    await server.shutdown(100);
    server = undefined;
    for (const e of events.slice(40)) await c.emit(e); // each resolves once on disk
    expect(c.stats().spooledEvents).toBeGreaterThan(0);

    server = (await start(up.port)).s;
    expect(await c.drain(30_000)).toBe(true);
    const ids = (await all()).map((e) => e.event.eventId);
    expect(ids).toEqual(events.map((e) => e.eventId));
    expect(c.stats().sendFailures).toBeGreaterThan(0);
  });
});
