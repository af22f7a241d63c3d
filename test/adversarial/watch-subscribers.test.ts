/**
 * 10 000 concurrent WatchRevocations subscribers against one authority process (the
 * real `baton-authority`, started from its config like an operator would), opened over
 * 125 HTTP/2 connections. Every subscriber gets its snapshot and then a live revocation;
 * the authority's resident memory stays under a generous bound (about 23 KB per
 * subscriber was measured; the bound allows 60 KB); and while they are all attached it
 * still registers an agent. Linux only (RSS is read from /proc).
 */
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyPair, randomId } from '@baton/core';
import { loadOrCreateKeyFile } from '@baton/authority';
import { createClient } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService, RevocationLevel, RevocationReason, RevokeRequestSchema } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { spawnReady, stopAllProcesses } from '../support/processes.js';
import { outcomeOf } from './support/outcome.js';
import { keyProof, mintLaunchToken, provision, registerRequest } from './support/provision.js';

const SUBSCRIBERS = 10_000;
/** 80 streams each: the authority allows 100 concurrent streams per connection. */
const CONNECTIONS = 125;
const MB = 1024 * 1024;
/** Generous: ~23 KB per subscriber was measured; 60 KB each is allowed. */
const MAX_GROWTH_BYTES = SUBSCRIBERS * 60 * 1024;

const hasProc = fs.existsSync('/proc/self/status');
const rssOf = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) * 1024;

// WatchRevocationsResponse is a oneof; its first byte is the tag of the member present.
const TAG_ENTRY = 0x0a;
const TAG_SNAPSHOT_END = 0x22;

/** One subscriber: a raw gRPC server stream, parsed just enough to see its events. */
class Subscriber {
  snapshotDone = false;
  entries = 0;
  private pending: Buffer = Buffer.alloc(0);
  readonly stream: http2.ClientHttp2Stream;

  constructor(session: http2.ClientHttp2Session) {
    this.stream = session.request({ ':method': 'POST', ':path': `/${IssuerService.typeName}/WatchRevocations`, 'content-type': 'application/grpc', te: 'trailers' });
    this.stream.on('error', () => undefined);
    this.stream.on('data', (chunk: Buffer) => this.read(chunk));
    this.stream.end(Buffer.alloc(5)); // one empty request message: from_sequence 0
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 5) {
      const len = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + len) return;
      const tag = len > 0 ? this.pending[5] : undefined;
      if (tag === TAG_SNAPSHOT_END) this.snapshotDone = true;
      if (tag === TAG_ENTRY && this.snapshotDone) this.entries++;
      this.pending = this.pending.subarray(5 + len);
    }
  }
}

async function until(what: string, pred: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-adv-10k-'));
afterAll(async () => {
  await stopAllProcesses();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('10 000 concurrent WatchRevocations subscribers', () => {
  it.skipIf(!hasProc)(
    'all get their snapshot and a live entry; authority memory stays bounded and it keeps registering agents',
    async () => {
      const operator = loadOrCreateKeyFile(path.join(dir, 'operator.jwk'));
      const config = path.join(dir, 'authority.json');
      fs.mkdirSync(path.join(dir, 'data'), { mode: 0o700 });
      fs.writeFileSync(config, JSON.stringify({ dataDir: 'data', listen: '127.0.0.1:0', operators: [{ id: 'op', jwk: operator.publicJwk }] }), { mode: 0o600 });
      const main = path.join(path.dirname(fileURLToPath(import.meta.resolve('@baton/authority'))), 'main.js');
      const authority = await spawnReady({ name: 'authority', script: main, args: ['--config', config] });
      const address = String(authority.first['address']);
      const identity = createClient(IdentityService, address, { tracing: false });
      const issuer = createClient(IssuerService, address, { tracing: false });
      const orchestrator = generateKeyPair();
      const sessions = Array.from({ length: CONNECTIONS }, () => {
        const s = http2.connect(`http://${address}`);
        s.on('error', () => undefined);
        return s;
      });
      try {
        await provision(identity, operator, orchestrator);
        const rssBefore = rssOf(authority.pid);

        const subs = Array.from({ length: SUBSCRIBERS }, (_, i) => new Subscriber(sessions[i % CONNECTIONS]!));
        await until('every snapshot', () => subs.every((x) => x.snapshotDone), 90_000);
        const rssAttached = rssOf(authority.pid);

        const req = { level: RevocationLevel.TOKEN, target: randomId(16), reason: RevocationReason.MANUAL };
        await issuer.revoke(req, { metadata: keyProof(operator, IssuerService.method.revoke, RevokeRequestSchema, req) });
        await until('the entry at every subscriber', () => subs.every((x) => x.entries >= 1), 60_000);

        // Still serving with all of them attached: a whole registration.
        const lt = await mintLaunchToken(identity, orchestrator);
        const res = await identity.register(await registerRequest(identity, lt, generateKeyPair()));
        expect((await issuer.introspect({ token: res.accessToken })).active).toBe(true);
        const rssPeak = Math.max(rssAttached, rssOf(authority.pid));

        expect(subs.filter((x) => x.entries !== 1).length).toBe(0);
        expect({ growthMB: Math.round((rssPeak - rssBefore) / MB), withinBound: rssPeak - rssBefore < MAX_GROWTH_BYTES }).toMatchObject({ withinBound: true });

        for (const x of subs) x.stream.close(http2.constants.NGHTTP2_CANCEL);
        // Detached, it goes on serving: another whole registration.
        const after = await mintLaunchToken(identity, orchestrator);
        expect(await outcomeOf(identity.register(await registerRequest(identity, after, generateKeyPair())))).toBe('OK');
      } finally {
        for (const s of sessions) s.destroy();
        identity.close();
        issuer.close();
        await authority.stop();
      }
    },
    240_000,
  );
});
