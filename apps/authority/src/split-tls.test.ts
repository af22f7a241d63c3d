import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { decodeJws, generateKeyPair, manualClock, nextHopClaims, parseAccessTokenClaims, publicJwkOf, signHop, type KeyPair } from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import { openFileIdentityCa } from '@baton/identity';
import { createClient, createServer, type BatonServer } from '@baton/proto';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase } from '@baton/store';
import { TrustBundle, createSvidSource, pemToDers, svidChannelCredentials, svidOf, svidServerCredentials, withHandshakeErrors, type SvidSource } from '@baton/x509';
import type { AuthorityTls } from './authority-tls.js';
import { withSharedCa } from './shared-ca.js';
import { resolveConfig } from './config.js';
import { authorityId, openPeerChannels } from './peer-channels.js';
import { CEILING, codeOf, copyKeys, keyEntry, launchToken, register, setUpWorkflow, startReplica, tempDir, writeConfig, type Authorities, type ReplicaProcess } from './testing/fixtures.js';

const TD = 'baton.local';
const AUTHORITY = `spiffe://${TD}/authority`;
const DELEGATE_PATH = `/${DelegationService.typeName}/${DelegationService.method.delegate.name}`;

/** Clients that verify an authority process by SPIFFE id against `bundlePem` (no client certificate). */
function tlsClients(address: string, bundlePem: string) {
  const source = createSvidSource({ bundle: TrustBundle.fromDer(TD, pemToDers(bundlePem)) });
  const creds = svidChannelCredentials({ source, expectedId: AUTHORITY });
  const opts = { credentials: creds, tracing: false, defaultDeadlineMs: 10_000 };
  const identity = withHandshakeErrors(IdentityService, createClient(IdentityService, address, opts), creds);
  const issuer = withHandshakeErrors(IssuerService, createClient(IssuerService, address, opts), creds);
  const delegation = withHandshakeErrors(DelegationService, createClient(DelegationService, address, opts), creds);
  return { identity, issuer, delegation, creds, close: () => [identity, issuer, delegation].forEach((c) => c.close()) } satisfies Authorities & Record<string, unknown>;
}

/** `from` delegates approve:invoice (≤ 1000) to `to` through DelegationService at `client`. */
function delegate(client: ReturnType<typeof tlsClients>['delegation'], from: { key: KeyPair; accessToken: string }, to: { key: KeyPair; spiffeId: string }) {
  const claims = parseAccessTokenClaims(decodeJws(from.accessToken).payload);
  const scopes = [{ ...CEILING[0]!, constraints: { amount: { max: 1000 } } }];
  const hop = signHop(
    nextHopClaims({ token: from.accessToken, claims, holderKey: publicJwkOf(from.key.publicKey).x, to: to.spiffeId, toKey: publicJwkOf(to.key.publicKey).x, scopes, exp: claims.exp }),
    from.key,
  );
  return client.delegate({ hop }, { metadata: dpopMetadata(from.key, from.accessToken, DELEGATE_PATH) });
}

// Two authority processes with TLS from the authority CA: identity + issuer + audit in
// one, delegation in the other (keys/ copied, as for a replica). A third process holds a
// CA of its own: a delegation process pointed at it must refuse it.
describe('services split across processes over TLS (authority-ca)', () => {
  const operator = generateKeyPair();
  const orchestrator = generateKeyPair();
  const [a, b, foreign, stray] = [tempDir('split-a'), tempDir('split-b'), tempDir('split-foreign'), tempDir('split-stray')];
  const procs: ReplicaProcess[] = [];
  let core: ReplicaProcess;
  let deleg: ReplicaProcess;
  let other: ReplicaProcess;
  let misled: ReplicaProcess;
  let bundlePem: string;
  let c: ReturnType<typeof tlsClients>;

  const start = async (dir: string, config: Record<string, unknown>): Promise<ReplicaProcess> => {
    const p = await startReplica(writeConfig(dir, { dataDir: dir, listen: '127.0.0.1:0', operators: [keyEntry('admin', operator)], ...config }));
    procs.push(p);
    return p;
  };

  beforeAll(async () => {
    const tls = { mode: 'authority-ca', dnsNames: ['localhost'] };
    core = await start(a.dir, { services: ['identity', 'issuer', 'audit'], tls });
    copyKeys(a.dir, b.dir);
    const peersOf = (addr: string) => ({ identity: addr, issuer: addr, audit: addr });
    deleg = await start(b.dir, { services: ['delegation'], peers: peersOf(core.address), tls });
    // Another deployment (its own CA), and a delegation process of ours pointed at it.
    other = await start(foreign.dir, { services: ['identity', 'issuer', 'audit'], tls });
    copyKeys(a.dir, stray.dir);
    misled = await start(stray.dir, { services: ['delegation'], peers: peersOf(other.address), tls });
    bundlePem = fs.readFileSync(path.join(a.dir, 'trust-bundle.pem'), 'utf8');
    c = tlsClients(core.address, bundlePem);
    await setUpWorkflow(c, operator, orchestrator, 'payments', 'orch-1');
  }, 90_000);

  afterAll(async () => {
    c?.close();
    await Promise.all(procs.map((p) => p.stop()));
    for (const d of [a, b, foreign, stray]) d.rm();
  }, 30_000);

  it('an agent registered at one process delegates through the other; the hop is audited across the split', async () => {
    const manager = await register(c, await launchToken(c, orchestrator, 'payments', 'task-manager'));
    const intern = await register(c, await launchToken(c, orchestrator, 'payments', 'task-intern'));
    const toDeleg = tlsClients(deleg.address, bundlePem);
    try {
      const res = await delegate(toDeleg.delegation, manager, intern);
      // The delegation process serves the authority id from the same CA.
      expect(toDeleg.creds.lastPeer?.spiffeId.uri).toBe(AUTHORITY);
      expect(res.depth).toBe(1);
      const child = parseAccessTokenClaims(decodeJws(res.accessToken).payload);
      expect(child.sub).toBe(intern.spiffeId);
      // Issued by the issuer in the first process (over TLS), and active there.
      expect((await c.issuer.introspect({ token: res.accessToken })).active).toBe(true);
    } finally {
      toDeleg.close();
    }
    // The delegation process shipped its audit event to the log in the first process.
    const db = await openDatabase(`sqlite:${path.join(a.dir, 'audit.db')}`);
    try {
      await vi.waitFor(
        async () => {
          const rows = await db.all<{ source: string }>("SELECT source FROM audit_entries WHERE type = 'delegation.granted'");
          expect(rows.map((r) => r.source)).toEqual(['delegation']);
        },
        { timeout: 15_000, interval: 100 },
      );
    } finally {
      await db.close();
    }
  }, 30_000);

  it('the split listener speaks TLS only', async () => {
    const plain = createClient(DelegationService, deleg.address, { tracing: false, defaultDeadlineMs: 3000 });
    try {
      expect(await codeOf(plain.delegate({ hop: 'x' }))).toBe('ERR_UNAVAILABLE');
    } finally {
      plain.close();
    }
  });

  it('a process whose peers present certificates from another CA refuses them and says why', async () => {
    const manager = await register(c, await launchToken(c, orchestrator, 'payments', 'task-misled'));
    const intern = await register(c, await launchToken(c, orchestrator, 'payments', 'task-misled-2'));
    const toMisled = tlsClients(misled.address, bundlePem);
    try {
      // Its guard cannot fetch keys through the refused channel: the delegation is not granted.
      expect(await codeOf(delegate(toMisled.delegation, manager, intern))).not.toBe('resolved');
      // And the process says why, with the precise code.
      await vi.waitFor(() => expect(misled.stderr()).toMatch(new RegExp(`peer ${other.address} refused: ERR_PEER_CERT_INVALID`)), { timeout: 10_000, interval: 100 });
    } finally {
      toMisled.close();
    }
  }, 30_000);

  describe('peer channels (the clients a split process uses)', () => {
    const clock = manualClock(Date.now());
    let source: SvidSource;
    let servers: BatonServer[] = [];

    /** The TLS state a delegation-only process in `b` has. */
    const tlsOf = (s: SvidSource): AuthorityTls => ({ ca: undefined, credentials: undefined, internalListen: undefined, svidSource: s, close: () => undefined });
    const configTo = (target: string) =>
      resolveConfig({ dataDir: b.dir, services: ['delegation'], peers: { issuer: target, identity: target, audit: target }, tls: { mode: 'authority-ca' } }, b.dir, {});

    beforeAll(async () => {
      // This process's own SVID, from the shared CA (as openAuthorityTls issues it).
      const key = generateKeyPair();
      const svid = await withSharedCa(configTo(core.address), clock, async (ca) => svidOf((await ca.issue(AUTHORITY, key.publicKey, Date.now() + 3_600_000)).certificate, key.privateKey));
      source = createSvidSource({ svid, bundle: TrustBundle.fromDer(TD, pemToDers(bundlePem)) });
    });
    afterAll(async () => {
      for (const s of servers) await s.shutdown(0);
    });

    const issuerVia = (target: string) => openPeerChannels(configTo(target), tlsOf(source), 'unix:/nonexistent').client(IssuerService, 'issuer');

    it('reach the real peer by SPIFFE id', async () => {
      const issuer = issuerVia(core.address);
      try {
        expect(JSON.parse((await issuer.getKeys({})).jwks).keys.length).toBeGreaterThan(0);
      } finally {
        issuer.close();
      }
    });

    it('refuse a peer whose certificate comes from another CA: ERR_PEER_CERT_INVALID', async () => {
      const issuer = issuerVia(other.address);
      try {
        expect(await codeOf(issuer.getKeys({}))).toBe('ERR_PEER_CERT_INVALID');
      } finally {
        issuer.close();
      }
    });

    it('refuse a peer with a real certificate from our CA for another SPIFFE id: ERR_PEER_IDENTITY_MISMATCH', async () => {
      const key = generateKeyPair();
      const impostorId = `spiffe://${TD}/agent/orch-1/task-x/impostor`;
      const svid = await withSharedCa(configTo(core.address), clock, async (ca) => svidOf((await ca.issue(impostorId, key.publicKey, Date.now() + 3_600_000)).certificate, key.privateKey));
      const server = createServer();
      servers.push(server);
      const port = await server.listen('127.0.0.1:0', svidServerCredentials({ source: createSvidSource({ svid, bundle: source.bundle }) }));
      const issuer = issuerVia(`127.0.0.1:${port}`);
      try {
        expect(await codeOf(issuer.getKeys({}))).toBe('ERR_PEER_IDENTITY_MISMATCH');
      } finally {
        issuer.close();
      }
    });

    it('never fall back to plaintext: a plaintext peer is unreachable', async () => {
      const server = createServer();
      servers.push(server);
      const port = await server.listen('127.0.0.1:0');
      const issuer = issuerVia(`127.0.0.1:${port}`);
      try {
        expect(await codeOf(issuer.getKeys({}))).toBe('ERR_UNAVAILABLE');
      } finally {
        issuer.close();
      }
    });

    it('use TLS credentials for remote peers only, and name the expected id', () => {
      const peers = openPeerChannels(resolveConfig({ dataDir: b.dir, services: ['delegation'], peers: { issuer: '10.0.0.1:7700' }, tls: { mode: 'authority-ca' } }, b.dir, {}), tlsOf(source), 'unix:/run/x.sock');
      expect(peers.channel('delegation')).toEqual({ target: 'unix:/run/x.sock', credentials: undefined });
      expect(peers.channel('issuer').credentials?._isSecure()).toBe(true);
      expect(() => peers.channel('audit')).toThrow(TypeError);
      expect(authorityId(configTo(core.address))).toBe(AUTHORITY);
    });
  });
});

describe('withSharedCa', () => {
  it('refuses to start a process without identity when there is no CA to share', async () => {
    const d = tempDir('no-ca');
    try {
      const config = resolveConfig({ dataDir: d.dir, services: ['delegation'], tls: { mode: 'authority-ca' } }, d.dir, {});
      await expect(withSharedCa(config, manualClock(Date.now()), async () => 1)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
      expect(fs.existsSync(path.join(d.dir, 'keys', 'ca'))).toBe(false);
    } finally {
      d.rm();
    }
  });

  it('reads the owner’s CA without changing a byte of it, and cannot rotate it', async () => {
    const d = tempDir('ca-shared');
    try {
      const clock = manualClock(Date.now());
      const caDir = path.join(d.dir, 'keys', 'ca');
      await openFileIdentityCa(caDir, { trustDomain: 'example.org', clock });
      const snapshot = () => fs.readdirSync(caDir).sort().map((n) => [n, fs.readFileSync(path.join(caDir, n), 'utf8'), fs.statSync(path.join(caDir, n)).mtimeMs]);
      const before = snapshot();
      const config = resolveConfig({ dataDir: d.dir, trustDomain: 'example.org', services: ['delegation'], tls: { mode: 'authority-ca' } }, d.dir, {});
      const issued = await withSharedCa(config, clock, async (ca) => {
        const key = generateKeyPair();
        // An SVID far past the owner's recorded coverage: the reader does not extend it.
        const svid = await ca.issue('spiffe://example.org/authority', key.publicKey, clock.now() + 86_400_000);
        await expect(ca.rotate()).rejects.toThrow(TypeError);
        return svid;
      });
      expect(issued.rotatedFrom).toBeUndefined();
      expect(snapshot()).toEqual(before);
      expect(fs.existsSync(path.join(d.dir, 'run'))).toBe(false);
    } finally {
      d.rm();
    }
  });
});
