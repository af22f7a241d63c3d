/**
 * Delegation chains (issue 3 numbers): offline verification of a delegated token with
 * `verifyChain` from @baton/delegation (token signature, every hop's signature, links,
 * attenuation, expiry, chain hash; nothing cached) at depths 1..5, against the raw
 * Ed25519 verifies it needs (depth + 1) measured in the same run; and the size of the
 * token carrying its chain by value at each depth.
 */
import { decodeJws, parseAccessTokenClaims } from '@baton/core';
import { verifyChain } from '@baton/delegation';
import { jwksFromIssuer } from '@baton/guard';
import { ISSUER, startBenchAuthority } from './bench-authority.js';
import { buildChain, retryNote, type ChainLink } from './chain-builder.js';
import { rawVerifier } from './ed25519-reference.js';
import { quantile, row, summarize, type BenchOptions, type BenchRow, type Stats } from './harness.js';

const MAX_DEPTH = 5;
const CHUNK = 50;

/** Size facts of one token. */
function sizeOf(link: ChainLink): { bytes: number; byValue: boolean } {
  const claims = parseAccessTokenClaims(decodeJws(link.token).payload);
  return { bytes: Buffer.byteLength(link.token), byValue: link.depth === 0 || claims.del?.hops !== undefined };
}

/** Chain verification p50/p99 and cost vs raw verifies at depths 1..5; token bytes at 0..5. */
export async function benchChain({ quick }: BenchOptions): Promise<BenchRow[]> {
  const runs = quick ? 3 : 5;
  const n = quick ? 200 : 500;
  const authority = await startBenchAuthority({ audit: false });
  try {
    const keys = jwksFromIssuer(authority.issuerClient);
    await keys.ready();
    const chains = [await buildChain(authority, MAX_DEPTH, 'c1'), await buildChain(authority, MAX_DEPTH, 'c2')];
    const raw = rawVerifier();
    const verify = (token: string): void => {
      verifyChain(token, { keys, issuer: ISSUER });
    };
    for (const c of chains) for (const l of c.slice(1)) for (let i = 0; i < 50; i++) verify(l.token); // warm-up

    const perDepth = new Map<number, { p50: number[]; p99: number[]; cost: number[]; refP50: number[] }>();
    for (let d = 1; d <= MAX_DEPTH; d++) perDepth.set(d, { p50: [], p99: [], cost: [], refP50: [] });
    for (let r = 0; r < runs; r++) {
      for (let d = 1; d <= MAX_DEPTH; d++) {
        const acc = perDepth.get(d)!;
        const tokens = chains.map((c) => c[d]!.token);
        // Interleaved chunks: the (d + 1) raw verifies this chain needs, then as many chain verifications.
        const rawLat: number[] = [];
        let rawTotal = 0;
        const lat: number[] = new Array(n);
        let total = 0;
        for (let c = 0; c < n; c += CHUNK) {
          const end = Math.min(n, c + CHUNK);
          rawTotal += raw.run((end - c) * (d + 1), rawLat);
          for (let i = c; i < end; i++) {
            const t = performance.now();
            verify(tokens[i % tokens.length]!);
            lat[i] = performance.now() - t;
            total += lat[i]!;
          }
        }
        acc.refP50.push(quantile(rawLat, 0.5) * (d + 1));
        acc.p50.push(quantile(lat, 0.5));
        acc.p99.push(quantile(lat, 0.99));
        acc.cost.push(total / rawTotal);
      }
    }

    const rows: BenchRow[] = [];
    for (let d = 1; d <= MAX_DEPTH; d++) {
      const acc = perDepth.get(d)!;
      const cost: Stats = summarize(acc.cost);
      rows.push(
        row({
          name: `chain_verify_depth${d}_p50_ms`, unit: 'ms', stats: summarize(acc.p50),
          reference: { name: `${d + 1} raw Ed25519 verifies (ms, p50)`, value: summarize(acc.refP50).value }, ratio: 'value/ref',
          ...(d === 1 ? { note: `verifyChain(token, { keys, issuer }) offline, nothing cached; ${n} verifications per depth and run over two real chains` } : {}),
        }),
        row({ name: `chain_verify_depth${d}_p99_ms`, unit: 'ms', stats: summarize(acc.p99) }),
        row({
          name: `chain_verify_cost_vs_raw_depth${d}`, unit: '×', stats: cost,
          ...(d === 1 ? { note: 'total verification time ÷ total time of the raw Ed25519 verifies it needs (depth + 1), same run; 1.0 would be pure signature cost' } : {}),
        }),
      );
    }
    for (let d = 0; d <= MAX_DEPTH; d++) {
      const sizes = chains.map((c) => sizeOf(c[d]!));
      const byValue = sizes.every((s) => s.byValue);
      rows.push(
        row({
          name: `token_bytes_depth${d}`, unit: 'bytes', stats: summarize(sizes.map((s) => s.bytes)),
          ...(d === MAX_DEPTH ? { target: '≤ 4096', meets: (v: number) => v <= 4096 && byValue } : {}),
          ...(d === MAX_DEPTH || !byValue
            ? { note: `${byValue ? 'chain carried by value (del.hops)' : 'the issuer moved the chain out by reference (del.ref): the by-value token would have passed 4 KB'}; compact JWS as issued, over ${sizes.length} real chains (min/max over chains)${retryNote()}` }
            : {}),
        }),
      );
    }
    return rows;
  } finally {
    await authority.close();
  }
}
