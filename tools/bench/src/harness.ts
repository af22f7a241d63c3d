/**
 * The bench harness: every figure is measured as a ratio against a reference measured in
 * the same run on the same machine, so results travel between machines. Benchmarks never
 * fail CI; they print a table and write bench/results.json.
 */

/** One row of bench/results.json. */
export interface BenchRow {
  readonly name: string;
  /** Median over the runs. */
  readonly value: number;
  readonly unit: string;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
  /** What the value is compared with (measured in this run), if anything. */
  readonly reference: string | null;
  readonly referenceValue: number | null;
  /** value / referenceValue (or the reverse where lower is better; see `better`). */
  readonly ratio: number | null;
  /** Human-readable target, e.g. `≤ 1 ms` or `≥ 0.8`. */
  readonly target: string;
  readonly met: boolean;
  readonly note?: string;
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The q-quantile (0..1) of samples, nearest-rank. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Operations per second of a synchronous body run for about `ms` milliseconds. */
export function opsPerSecond(body: () => void, ms: number): number {
  for (let i = 0; i < 200; i++) body(); // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) body();
    n += 100;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

/** Operations per second of an async body with `concurrency` in flight for about `ms`. */
export async function asyncOpsPerSecond(body: () => Promise<unknown>, ms: number, concurrency = 32): Promise<number> {
  for (let i = 0; i < 50; i++) await body();
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await body();
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

/** Per-call latencies in milliseconds of a synchronous-or-async body, sequentially. */
export async function latencies(body: () => unknown, count: number): Promise<number[]> {
  for (let i = 0; i < Math.min(200, count); i++) await body();
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await body();
    out[i] = performance.now() - t;
  }
  return out;
}

/** Repeats `measure` and summarises: median, min, max. */
export async function repeat(runs: number, measure: () => Promise<number> | number): Promise<{ value: number; min: number; max: number; runs: number }> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await measure());
  return { value: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs };
}

/** Formats rows as a Markdown table. */
export function markdownTable(rows: readonly BenchRow[]): string {
  const fmt = (x: number | null): string => (x === null ? '—' : Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 1 ? x.toFixed(2) : x.toFixed(3));
  const lines = [
    '| name | value (median) | min – max | reference | ratio | target | met |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${fmt(r.value)} ${r.unit} | ${fmt(r.min)} – ${fmt(r.max)} | ${r.reference ? `${r.reference} = ${fmt(r.referenceValue)}` : '—'} | ${fmt(r.ratio)} | ${r.target} | ${r.met ? '✓' : '✗'} |`,
    ),
  ];
  return lines.join('\n');
}
