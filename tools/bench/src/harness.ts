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
  /** Human-readable target, e.g. `≤ 1 ms` or `≥ 0.8`; `—` for rows given for information. */
  readonly target: string;
  /** Whether the target is met; null for rows without a target. */
  readonly met: boolean | null;
  readonly note?: string;
}

/** Options every benchmark takes. */
export interface BenchOptions {
  /** The reduced set: fewer runs and smaller samples, to fit in two minutes overall. */
  readonly quick: boolean;
  /** Rebuild cached inputs (the large audit log) instead of reusing them. Default false. */
  readonly fresh?: boolean;
}

/** Median, min and max of one figure over several runs. */
export interface Stats {
  readonly value: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
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

/** Median, min and max of per-run values. */
export function summarize(xs: readonly number[]): Stats {
  if (xs.length === 0) throw new TypeError('summarize: no runs');
  return { value: median(xs), min: Math.min(...xs), max: Math.max(...xs), runs: xs.length };
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

/**
 * Like {@link asyncOpsPerSecond}, but each of the `concurrency` workers gets its own
 * body (e.g. one agent per worker), and there is no warm-up.
 */
export async function workersOpsPerSecond(bodies: ReadonlyArray<() => Promise<unknown>>, ms: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    bodies.map(async (body) => {
      while (performance.now() < end) {
        await body();
        n++;
      }
    }),
  );
  return n / ((performance.now() - start) / 1000);
}

/** Per-call latencies in milliseconds of a synchronous-or-async body, sequentially. */
export async function latencies(body: () => unknown, count: number, warmup = Math.min(200, count)): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await body();
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    await body();
    out[i] = performance.now() - t;
  }
  return out;
}

/** Repeats `measure` and summarises: median, min, max. */
export async function repeat(runs: number, measure: () => Promise<number> | number): Promise<Stats> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await measure());
  return summarize(xs);
}

/** What a row is built from; `ratio` says how value and reference compare. */
export interface RowInput {
  readonly name: string;
  readonly unit: string;
  readonly stats: Stats;
  readonly reference?: { readonly name: string; readonly value: number };
  /**
   * `value/ref` (higher is better, e.g. throughput vs a raw ceiling) or `ref/value`.
   * Default `value/ref`. An explicit per-run median ratio may be given instead.
   */
  readonly ratio?: number | 'value/ref' | 'ref/value';
  readonly target?: string;
  /** Decides `met` from the row; absent: no target (`met` null). */
  readonly meets?: (value: number, ratio: number | null) => boolean;
  readonly note?: string;
}

/** Builds a row; ratios are rounded to 3 decimals, values to 4 significant digits. */
export function row(input: RowInput): BenchRow {
  const ref = input.reference;
  let ratio: number | null = null;
  if (typeof input.ratio === 'number') ratio = input.ratio;
  else if (ref !== undefined && ref.value !== 0 && input.stats.value !== 0) {
    ratio = input.ratio === 'ref/value' ? ref.value / input.stats.value : input.stats.value / ref.value;
  }
  const r = (x: number): number => Number(x.toPrecision(4));
  const rounded = ratio === null ? null : Math.round(ratio * 1000) / 1000;
  return {
    name: input.name,
    value: r(input.stats.value),
    unit: input.unit,
    min: r(input.stats.min),
    max: r(input.stats.max),
    runs: input.stats.runs,
    reference: ref?.name ?? null,
    referenceValue: ref === undefined ? null : r(ref.value),
    ratio: rounded,
    target: input.target ?? '—',
    met: input.meets ? input.meets(input.stats.value, ratio) : null,
    ...(input.note !== undefined ? { note: input.note } : {}),
  };
}

/** A row for a benchmark that could not run (missing module, crash): value NaN is avoided. */
export function unavailableRow(name: string, unit: string, target: string, note: string): BenchRow {
  return { name, value: 0, unit, min: 0, max: 0, runs: 0, reference: null, referenceValue: null, ratio: null, target, met: null, note };
}

/** Formats a number for the table: 3 significant-ish digits. */
export function fmt(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  if (a >= 100) return Math.round(x).toLocaleString('en-US');
  if (a >= 1) return x.toFixed(2);
  if (a === 0) return '0';
  return x.toPrecision(3);
}

/** Formats rows as a Markdown table. */
export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = [
    '| name | value (median) | min – max | runs | reference (same run) | ratio | target | met |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.runs === 0 ? 'n/a' : `${fmt(r.value)} ${r.unit}`} | ${r.runs === 0 ? '—' : `${fmt(r.min)} – ${fmt(r.max)}`} | ${r.runs} | ${r.reference ? `${r.reference} = ${fmt(r.referenceValue)}` : '—'} | ${fmt(r.ratio)} | ${r.target} | ${r.met === null ? '—' : r.met ? '✓' : '✗'} |`,
    ),
  ];
  return lines.join('\n');
}

/** The rows' notes as a Markdown list (only rows that have one). */
export function markdownNotes(rows: readonly BenchRow[]): string {
  return rows
    .filter((r) => r.note !== undefined && r.note !== '')
    .map((r) => `- \`${r.name}\`: ${r.note}`)
    .join('\n');
}
