/**
 * Agent-to-agent mTLS (issue 6 numbers), measured against plaintext gRPC in the same run,
 * on the same in-process server implementation and the same Ed25519 identities Baton
 * issues:
 *
 * - `mtls_handshake_ms`: a fresh channel's first unary call over mTLS (TCP + TLS 1.3 with
 *   SVIDs on both ends + the client's SPIFFE-id check + the server's per-call SVID check),
 *   median; reference: a fresh plaintext channel's first call.
 * - `mtls_call_overhead_vs_plaintext`: unary calls per second on a warm channel with 32
 *   in flight, mTLS (per-call peer check included, verified certificates cached) vs
 *   plaintext; ratio = mTLS / plaintext (1.0 = no overhead). Runs alternate between the
 *   two so drift hits both.
 */
import { generateKeyPair } from '@baton/core';
import { createClient, createServer, type BatonServer, type ServiceImpl } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import {
  TrustBundle,
  createCaCertificate,
  createPeerVerifier,
  createSvidSource,
  issueSvid,
  peerOf,
  requireMtls,
  svidChannelCredentials,
  svidOf,
  svidServerCredentials,
  type SvidSource,
} from '@baton/x509';
import { asyncOpsPerSecond, median, row, summarize, type BenchOptions, type BenchRow } from './harness.js';

const TD = 'baton.local';
const SERVER_ID = `spiffe://${TD}/agent/bench/task/server000000000000001`;
const CLIENT_ID = `spiffe://${TD}/agent/bench/task/client000000000000001`;

interface Pki {
  readonly server: SvidSource;
  readonly client: SvidSource;
}

function pki(): Pki {
  const now = Date.now();
  const caKey = generateKeyPair();
  const ca = { certificate: createCaCertificate({ privateKey: caKey.privateKey, trustDomain: TD, notBeforeMs: now - 60_000, notAfterMs: now + 3_600_000 }), privateKey: caKey.privateKey };
  const bundle = TrustBundle.fromDer(TD, [ca.certificate]);
  const svid = (id: string) => {
    const k = generateKeyPair();
    return svidOf(issueSvid({ ca, spiffeId: id, publicKey: k.publicKey, notBeforeMs: now - 60_000, notAfterMs: now + 1_800_000 }), k.privateKey);
  };
  return { server: createSvidSource({ svid: svid(SERVER_ID), bundle }), client: createSvidSource({ svid: svid(CLIENT_ID), bundle }) };
}

/** Answers GetChallenge with a small payload (the caller's id over mTLS). */
function echo(mtls: boolean): ServiceImpl<typeof IdentityService> {
  return {
    async getChallenge(_req, ctx) {
      return { nonce: Buffer.from(mtls ? peerOf(ctx)!.spiffeId.uri : 'plaintext') };
    },
  } as Partial<ServiceImpl<typeof IdentityService>> as ServiceImpl<typeof IdentityService>;
}

interface Servers {
  readonly plain: string;
  readonly mtls: string;
  readonly close: () => Promise<void>;
}

async function startServers(p: Pki): Promise<Servers> {
  const plain: BatonServer = createServer({ tracing: false });
  plain.addService(IdentityService, echo(false));
  const plainPort = await plain.listen('127.0.0.1:0');
  const mtls: BatonServer = createServer({ tracing: false });
  mtls.addService(IdentityService, requireMtls(IdentityService, echo(true), createPeerVerifier({ source: p.server })));
  const mtlsPort = await mtls.listen('127.0.0.1:0', svidServerCredentials({ source: p.server }));
  return {
    plain: `127.0.0.1:${plainPort}`,
    mtls: `127.0.0.1:${mtlsPort}`,
    close: async () => {
      await plain.shutdown(0);
      await mtls.shutdown(0);
    },
  };
}

function clientFor(p: Pki, s: Servers, mtls: boolean) {
  return mtls
    ? createClient(IdentityService, s.mtls, { tracing: false, credentials: svidChannelCredentials({ source: p.client, expectedId: SERVER_ID }) })
    : createClient(IdentityService, s.plain, { tracing: false });
}

/** ms of a fresh channel's first call. */
async function firstCall(p: Pki, s: Servers, mtls: boolean): Promise<number> {
  const t = performance.now();
  const c = clientFor(p, s, mtls);
  try {
    await c.getChallenge({});
    return performance.now() - t;
  } finally {
    c.close();
  }
}

/** Runs the mTLS benchmark. */
export async function benchMtls(opts: BenchOptions): Promise<BenchRow[]> {
  const runs = opts.quick ? 3 : 5;
  const handshakes = opts.quick ? 30 : 100;
  const windowMs = opts.quick ? 700 : 2000;
  const p = pki();
  const servers = await startServers(p);
  try {
    // Handshake: interleave fresh mTLS and plaintext channels, median per run.
    const hsMtls: number[] = [];
    const hsPlain: number[] = [];
    for (let i = 0; i < 10; i++) await firstCall(p, servers, i % 2 === 0); // warm-up
    for (let r = 0; r < runs; r++) {
      const m: number[] = [];
      const pl: number[] = [];
      for (let i = 0; i < handshakes; i++) {
        m.push(await firstCall(p, servers, true));
        pl.push(await firstCall(p, servers, false));
      }
      hsMtls.push(median(m));
      hsPlain.push(median(pl));
    }

    // Warm channels: calls per second, alternating.
    const mtlsClient = clientFor(p, servers, true);
    const plainClient = clientFor(p, servers, false);
    const perMtls: number[] = [];
    const perPlain: number[] = [];
    const ratios: number[] = [];
    try {
      for (let r = 0; r < runs; r++) {
        const a = await asyncOpsPerSecond(() => mtlsClient.getChallenge({}), windowMs);
        const b = await asyncOpsPerSecond(() => plainClient.getChallenge({}), windowMs);
        perMtls.push(a);
        perPlain.push(b);
        ratios.push(a / b);
      }
    } finally {
      mtlsClient.close();
      plainClient.close();
    }

    const plainHs = summarize(hsPlain);
    const plainCalls = summarize(perPlain);
    const mtlsCalls = summarize(perMtls);
    const usOverhead = (1e6 / mtlsCalls.value - 1e6 / plainCalls.value).toFixed(1);
    return [
      row({
        name: 'mtls_handshake_ms',
        unit: 'ms',
        stats: summarize(hsMtls),
        reference: { name: 'plaintext fresh channel, first call', value: plainHs.value },
        ratio: 'value/ref',
        note: 'fresh channel + first unary call over TLS 1.3 with Ed25519 SVIDs on both ends, SPIFFE-id check on the client, per-call SVID check on the server',
      }),
      row({
        name: 'mtls_call_overhead_vs_plaintext',
        unit: 'calls/s',
        stats: mtlsCalls,
        reference: { name: 'plaintext unary calls/s, same server', value: plainCalls.value },
        ratio: median(ratios),
        note: `warm channel, 32 in flight; ${usOverhead} µs per call more than plaintext at the medians (a busy machine can make it negative)`,
      }),
    ];
  } finally {
    await servers.close();
  }
}
