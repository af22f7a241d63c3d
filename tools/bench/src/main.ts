/**
 * `npm run bench [-- --quick] [-- --only guard,audit]`: runs the benchmarks one at a time
 * (the machine has few cores; concurrent benchmarks would measure each other), prints a
 * Markdown table and writes `bench/results.json` at the repository root. Timings never
 * fail the run: the exit code is 1 only when a benchmark crashed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchAudit } from './audit.js';
import { benchAuditScale } from './audit-scale.js';
import { benchChain } from './chain.js';
import { benchGuard } from './guard.js';
import { markdownNotes, markdownTable, unavailableRow, type BenchOptions, type BenchRow } from './harness.js';
import { benchIssuance } from './issuance.js';
import { describeMachine } from './machine.js';

interface Bench {
  readonly id: string;
  /** Rows the benchmark is expected to produce when it cannot run (for a clear "not available"). */
  readonly expects: ReadonlyArray<readonly [name: string, unit: string, target: string]>;
  run(o: BenchOptions): Promise<BenchRow[]>;
}

/**
 * A benchmark another engineer owns, loaded only if its module exists (dynamic import of
 * a computed specifier, so this file compiles without it).
 */
function optional(id: string, file: string, exportName: string, expects: Bench['expects']): Bench {
  return {
    id,
    expects,
    async run(o) {
      let mod: Record<string, unknown>;
      const spec = `./${file}`;
      try {
        mod = (await import(spec)) as Record<string, unknown>;
      } catch (err) {
        if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(file)) {
          return expects.map(([name, unit, target]) => unavailableRow(name, unit, target, `not available: tools/bench/src/${file.replace(/\.js$/, '.ts')} is not in this build`));
        }
        throw err;
      }
      const fn = mod[exportName];
      if (typeof fn !== 'function') throw new Error(`${file} does not export ${exportName}`);
      return (await (fn as (o: BenchOptions) => Promise<BenchRow[]>)(o));
    },
  };
}

const BENCHES: readonly Bench[] = [
  { id: 'guard', expects: [['guard_depth0_p99_ms', 'ms', '≤ 1 ms'], ['guard_depth5_p99_ms', 'ms', '≤ 3 ms'], ['guard_throughput_vs_raw_verify', 'checks/s', '≥ 0.8'], ['guard_vs_jose_verify', 'checks/s', '—']], run: benchGuard },
  { id: 'chain', expects: [['token_bytes_depth5', 'bytes', '≤ 4096']], run: benchChain },
  { id: 'issuance', expects: [['issue_vs_grpc_echo', 'renewals/s', '≥ 0.6']], run: benchIssuance },
  { id: 'audit', expects: [['audit_append_vs_raw_sqlite', 'rows/s', '≥ 0.5'], ['audit_append_postgres_rows_per_s', 'rows/s', '—']], run: benchAudit },
  { id: 'audit-scale', expects: [['audit_verify_1m_s', 's', '≤ 10 s'], ['audit_proof_bytes_1m', 'bytes', '≤ 1024']], run: benchAuditScale },
  optional('revocation', 'revocation.js', 'benchRevocation', [['revocation_p99_ms_100_guards', 'ms', '≤ 100 ms']]),
  optional('mtls', 'mtls.js', 'benchMtls', [['mtls_handshake_ms', 'ms', '—'], ['mtls_call_overhead_vs_plaintext', 'calls/s', '—']]),
];

function parseArgs(argv: readonly string[]): { quick: boolean; fresh: boolean; only: Set<string> | undefined; out: string | undefined } {
  let quick = false;
  let fresh = false;
  let only: Set<string> | undefined;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--fresh') fresh = true;
    else if (a === '--only') only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (a.startsWith('--only=')) only = new Set(a.slice(7).split(',').filter(Boolean));
    else if (a === '--out') out = argv[++i];
    else if (a.startsWith('--out=')) out = a.slice(6);
    else if (a === '--help' || a === '-h') {
      process.stdout.write(`usage: npm run bench -- [--quick] [--fresh] [--only ${BENCHES.map((b) => b.id).join(',')}] [--out bench/results.json]\n`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (only) for (const id of only) if (!BENCHES.some((b) => b.id === id)) throw new Error(`unknown benchmark ${id}`);
  return { quick, fresh, only, out };
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const outFile = path.resolve(root, args.out ?? 'bench/results.json');
  const machine = describeMachine();
  const loadAtStart = os.loadavg()[0]!;
  const started = performance.now();
  const rows: BenchRow[] = [];
  let crashed = 0;
  process.stderr.write(`[bench] ${args.quick ? 'quick' : 'full'} run on ${machine.summary}\n`);
  for (const b of BENCHES) {
    if (args.only && !args.only.has(b.id)) continue;
    const t = performance.now();
    process.stderr.write(`[bench] ${b.id} …\n`);
    try {
      const got = await b.run({ quick: args.quick, fresh: args.fresh });
      rows.push(...got);
      process.stderr.write(`[bench] ${b.id} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      crashed++;
      process.stderr.write(`[bench] ${b.id} crashed: ${(err as Error)?.stack ?? String(err)}\n`);
      const detail = `benchmark crashed: ${(err as Error)?.message ?? String(err)}`.slice(0, 300);
      rows.push(...b.expects.map(([name, unit, target]) => unavailableRow(name, unit, target, detail)));
    }
  }
  const seconds = (performance.now() - started) / 1000;
  fs.mkdirSync(path.dirname(outFile), { recursive: true });
  fs.writeFileSync(outFile, `${JSON.stringify(rows, null, 2)}\n`);
  const notes = markdownNotes(rows);
  process.stdout.write(
    [
      `Machine: ${machine.summary}`,
      `Command: npm run bench${args.quick ? ' -- --quick' : ''} (${seconds.toFixed(0)} s; 1-minute load average ${loadAtStart.toFixed(1)} at the start, ${os.loadavg()[0]!.toFixed(1)} at the end)`,
      '',
      markdownTable(rows),
      '',
      ...(notes ? ['Notes:', '', notes, ''] : []),
      `Results: ${path.relative(root, outFile)}`,
      '',
    ].join('\n'),
  );
  return crashed > 0 ? 1 : 0;
}

main().then(
  (code) => {
    // Lingering gRPC channels or timers must not keep a finished run alive.
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`[bench] ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  },
);
