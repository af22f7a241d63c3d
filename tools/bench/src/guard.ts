/**
 * Guard decisions as a resource server makes them: `guard.check()` in-process, with keys
 * from the issuer (JWKS, warm), the issuer's revocation feed and the delegation chain
 * verifier, on real tokens from a real authority (depth 0: a registered agent's own
 * token; depth 5: the end of a real delegation chain). Every check carries a fresh,
 * single-use DPoP proof, generated before the timed loop.
 *
 * References, same run, interleaved with each run: raw node:crypto Ed25519 verifies, and
 * plain jose `jwtVerify` of the same depth-0 token with an imported key.
 */
import { importJWK, jwtVerify, type CryptoKey, type KeyObject } from 'jose';
import { chainVerifier, resolveFromIssuer } from '@baton/delegation';
import { createGuard, createRevocationFeed, jwksFromIssuer, type Guard, type GuardCheckInput, type RevocationFeed } from '@baton/guard';
import { AUDIENCE, ISSUER, startBenchAuthority, type BenchAuthority } from './bench-authority.js';
import { buildChain, retryNote, type ChainLink } from './chain-builder.js';
import { rawVerifier } from './ed25519-reference.js';
import { median, quantile, row, summarize, type BenchOptions, type BenchRow } from './harness.js';

const METHOD = '/acme.payments.v1.Payments/Approve';
/** Checks per interleaved chunk (reference, depth 0, jose, depth 5 in turn). */
const CHUNK = 250;
const REQUEST = { action: 'approve', resource: 'payments', attributes: { max_amount: 400 } } as const;

interface GuardRun {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

/** Checks to run: token and a fresh proof each, cycling over `links`. */
function inputsFor(links: readonly ChainLink[], n: number): GuardCheckInput[] {
  const out: GuardCheckInput[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const md = links[i % links.length]!.callMetadata(METHOD);
    out[i] = { token: md.authorization.slice('DPoP '.length), proof: md.dpop, htm: 'POST', htu: METHOD, request: REQUEST };
  }
  return out;
}

/** Per-operation latencies (ms) of one measured thing, summed over interleaved chunks. */
interface Acc {
  readonly lat: number[];
  ms: number;
}

const newAcc = (): Acc => ({ lat: [], ms: 0 });
const rate = (a: Acc): number => a.lat.length / (a.ms / 1000);

/** Checks inputs[from, to) in order, timing each; any deny aborts the benchmark (it would measure the wrong thing). */
async function checkChunk(guard: Guard, inputs: readonly GuardCheckInput[], from: number, to: number, acc: Acc): Promise<void> {
  for (let i = from; i < to; i++) {
    const t = performance.now();
    const d = await guard.check(inputs[i]!);
    const dt = performance.now() - t;
    acc.lat.push(dt);
    acc.ms += dt;
    if (!d.allow) throw new Error(`guard denied a valid request: ${d.code} (${d.reason})`);
  }
}

async function timeChecks(guard: Guard, inputs: readonly GuardCheckInput[]): Promise<GuardRun> {
  const acc = newAcc();
  await checkChunk(guard, inputs, 0, inputs.length, acc);
  return { perSecond: rate(acc), p50: quantile(acc.lat, 0.5), p99: quantile(acc.lat, 0.99) };
}

function resourceGuard(authority: BenchAuthority, feed: RevocationFeed, keys: ReturnType<typeof jwksFromIssuer>, tokenCacheSize?: number): Guard {
  return createGuard({
    audience: AUDIENCE,
    issuer: ISSUER,
    keys,
    revocation: feed,
    chain: chainVerifier({ resolve: resolveFromIssuer(authority.issuerClient) }),
    ...(tokenCacheSize !== undefined ? { tokenCacheSize } : {}),
  });
}

/** Guard p50/p99 and throughput at depth 0 and 5 (token cached and cold), vs raw verifies and jose. */
export async function benchGuard({ quick }: BenchOptions): Promise<BenchRow[]> {
  const runs = quick ? 3 : 5;
  const n = quick ? 1500 : 4000;
  const nCold = quick ? 400 : 1000;
  // No audit here: its background shipping would share the CPU with the timed loop.
  const authority = await startBenchAuthority({ audit: false });
  const feed = createRevocationFeed({ client: authority.issuerClient });
  try {
    const keys = jwksFromIssuer(authority.issuerClient);
    await Promise.all([keys.ready(), feed.ready(10_000)]);
    const chainA = await buildChain(authority, 5, 'a');
    const chainB = await buildChain(authority, 5, 'b');
    const [rootA, rootB, leafA, leafB] = [chainA[0]!, chainB[0]!, chainA[5]!, chainB[5]!];

    // jose: the same depth-0 token, key imported once from the issuer's JWKS.
    const jwks = JSON.parse((await authority.issuerClient.getKeys({})).jwks) as { keys: Array<{ x: string }> };
    const joseKey: CryptoKey | KeyObject | Uint8Array = await importJWK({ kty: 'OKP', crv: 'Ed25519', x: jwks.keys[0]!.x }, 'EdDSA');
    const joseOpts = { issuer: ISSUER, audience: AUDIENCE, typ: 'at+jwt', algorithms: ['EdDSA'] };
    await jwtVerify(rootA.token, joseKey, joseOpts); // must accept it

    const raw = rawVerifier();
    const g = {
      d0: resourceGuard(authority, feed, keys),
      d0cold: resourceGuard(authority, feed, keys, 1),
      d5: resourceGuard(authority, feed, keys),
      d5cold: resourceGuard(authority, feed, keys, 1),
    };
    const acc = { raw: [] as number[], rawP50: [] as number[], rawP99: [] as number[], jose: [] as number[], ratio: [] as number[], ratioJose: [] as number[], ratio5: [] as number[] };
    const res: Record<keyof typeof g, GuardRun[]> = { d0: [], d0cold: [], d5: [], d5cold: [] };
    // Warm-up (not recorded): JIT, key caches, and the chain verifier's per-token cache.
    await timeChecks(g.d0, inputsFor([rootA], 300));
    await timeChecks(g.d5, inputsFor([leafA], 300));
    await timeChecks(g.d0cold, inputsFor([rootA, rootB], 100));
    await timeChecks(g.d5cold, inputsFor([leafA, leafB], 100));
    for (let i = 0; i < 300; i++) await jwtVerify(rootA.token, joseKey, joseOpts);

    for (let r = 0; r < runs; r++) {
      // Interleaved chunks: the reference and the subjects see the same machine conditions.
      const in0 = inputsFor([rootA], n);
      const in5 = inputsFor([leafA], n);
      const a = { raw: newAcc(), d0: newAcc(), jose: newAcc(), d5: newAcc() };
      for (let c = 0; c < n; c += CHUNK) {
        const end = Math.min(n, c + CHUNK);
        a.raw.ms += raw.run(end - c, a.raw.lat);
        await checkChunk(g.d0, in0, c, end, a.d0);
        for (let i = c; i < end; i++) {
          const t = performance.now();
          await jwtVerify(rootA.token, joseKey, joseOpts);
          const dt = performance.now() - t;
          a.jose.lat.push(dt);
          a.jose.ms += dt;
        }
        await checkChunk(g.d5, in5, c, end, a.d5);
      }
      const rawPerSecond = rate(a.raw);
      acc.raw.push(rawPerSecond);
      acc.rawP50.push(quantile(a.raw.lat, 0.5));
      acc.rawP99.push(quantile(a.raw.lat, 0.99));
      acc.jose.push(rate(a.jose));
      const d0: GuardRun = { perSecond: rate(a.d0), p50: quantile(a.d0.lat, 0.5), p99: quantile(a.d0.lat, 0.99) };
      const d5: GuardRun = { perSecond: rate(a.d5), p50: quantile(a.d5.lat, 0.5), p99: quantile(a.d5.lat, 0.99) };
      res.d0.push(d0);
      res.d5.push(d5);
      acc.ratio.push(d0.perSecond / rawPerSecond);
      acc.ratioJose.push(d0.perSecond / rate(a.jose));
      acc.ratio5.push(d5.perSecond / rawPerSecond);
      res.d0cold.push(await timeChecks(g.d0cold, inputsFor([rootA, rootB], nCold)));
      res.d5cold.push(await timeChecks(g.d5cold, inputsFor([leafA, leafB], nCold)));
    }

    const rawRate = summarize(acc.raw).value;
    const rawP50 = summarize(acc.rawP50).value;
    const rawP99 = summarize(acc.rawP99).value;
    const pick = (k: keyof typeof g, f: keyof GuardRun) => summarize(res[k].map((x) => x[f]));
    const sampleNote = (count: number) => `${count} sequential checks per run (in chunks of ${CHUNK} interleaved with the raw-verify and jose references), each with a fresh DPoP proof`;
    return [
      row({
        name: 'guard_depth0_p50_ms', unit: 'ms', stats: pick('d0', 'p50'),
        reference: { name: 'raw Ed25519 verify p50 (ms)', value: rawP50 }, ratio: 'value/ref',
        note: `${sampleNote(n)}; token cached (its signature checked once), proof verified every time`,
      }),
      row({
        name: 'guard_depth0_p99_ms', unit: 'ms', stats: pick('d0', 'p99'),
        reference: { name: 'raw Ed25519 verify p99 (ms)', value: rawP99 }, ratio: 'value/ref',
        target: '≤ 1 ms', meets: (v) => v <= 1,
      }),
      row({
        name: 'guard_throughput_vs_raw_verify', unit: 'checks/s', stats: pick('d0', 'perSecond'),
        reference: { name: 'raw Ed25519 verifies/s', value: rawRate }, ratio: median(acc.ratio),
        target: '≥ 0.8', meets: (_v, ratio) => ratio !== null && ratio >= 0.8,
        note: `ratio = median of per-run (guard checks/s ÷ raw verifies/s), rates from the summed per-call times; per-run ratios ${fmtList(acc.ratio)}`,
      }),
      row({
        name: 'guard_vs_jose_verify', unit: 'checks/s', stats: pick('d0', 'perSecond'),
        reference: { name: 'jose jwtVerify/s (same token)', value: summarize(acc.jose).value }, ratio: median(acc.ratioJose),
        note: 'for comparison: jose verifies the token\'s signature and claims (one Ed25519 verify); the guard runs its whole pipeline with the token cached and verifies the proof (one Ed25519 verify)',
      }),
      row({
        name: 'guard_depth0_cold_token_p99_ms', unit: 'ms', stats: pick('d0cold', 'p99'),
        reference: { name: 'raw Ed25519 verify p99 (ms)', value: rawP99 }, ratio: 'value/ref',
        note: `token cache of 1 entry and two alternating tokens: every check verifies token and proof (2 verifies); ${nCold} checks per run`,
      }),
      row({
        name: 'guard_depth5_p50_ms', unit: 'ms', stats: pick('d5', 'p50'),
        reference: { name: 'raw Ed25519 verify p50 (ms)', value: rawP50 }, ratio: 'value/ref',
        note: `${sampleNote(n)}; real depth-5 chain (six registered agents, five DelegationService hops); token and its verified chain cached, chain expiry and revocation (hops, agents) re-checked every time${retryNote()}`,
      }),
      row({
        name: 'guard_depth5_p99_ms', unit: 'ms', stats: pick('d5', 'p99'),
        reference: { name: 'raw Ed25519 verify p99 (ms)', value: rawP99 }, ratio: 'value/ref',
        target: '≤ 3 ms', meets: (v) => v <= 3,
      }),
      row({
        name: 'guard_depth5_throughput_vs_raw_verify', unit: 'checks/s', stats: pick('d5', 'perSecond'),
        reference: { name: 'raw Ed25519 verifies/s', value: rawRate }, ratio: median(acc.ratio5),
      }),
      row({
        name: 'guard_depth5_cold_token_p50_ms', unit: 'ms', stats: pick('d5cold', 'p50'),
        reference: { name: 'raw Ed25519 verify p50 (ms)', value: rawP50 }, ratio: 'value/ref',
        note: `nothing cached: token, proof and the five hops verified on every check (7 verifies); ${nCold} checks per run`,
      }),
      row({
        name: 'guard_depth5_cold_token_p99_ms', unit: 'ms', stats: pick('d5cold', 'p99'),
        reference: { name: 'raw Ed25519 verify p99 (ms)', value: rawP99 }, ratio: 'value/ref',
      }),
    ];
  } finally {
    await feed.close();
    await authority.close();
  }
}

function fmtList(xs: readonly number[]): string {
  return xs.map((x) => x.toFixed(2)).join(', ');
}
