/**
 * "RSS stays flat", as a stated, checkable criterion over the samples of a run (pure).
 *
 * The first half of a run is warm-up (JIT, caches, SQLite page cache, pools filling up)
 * and is ignored. RSS is flat when both hold:
 * - the least-squares slope of RSS over the second half is at most
 *   {@link RSS_CRITERION}.maxSlopeMbPerMin, and
 * - the median of the last quarter is at most {@link RSS_CRITERION}.maxQuarterRatio × the
 *   median of the second quarter.
 * The slope catches a steady leak; the ratio of medians, immune to garbage-collection saw
 * teeth, catches a step up late in the run.
 */

/** One RSS reading. */
export interface RssSample {
  /** Since the start of the run, ms. */
  readonly atMs: number;
  readonly rssBytes: number;
}

/** The thresholds of the criterion. */
export const RSS_CRITERION = Object.freeze({
  /** Largest slope over the second half, MB (10^6 bytes) per minute. */
  maxSlopeMbPerMin: 1,
  /** Largest last-quarter median ÷ second-quarter median. */
  maxQuarterRatio: 1.1,
  /** Fewest samples in the second half for a verdict. */
  minSamples: 6,
});

/** The criterion applied to a run. */
export interface RssVerdict {
  /** True: flat; false: growing; undefined: too few samples to tell. */
  readonly flat: boolean | undefined;
  readonly slopeMbPerMin: number;
  readonly secondQuarterMedianBytes: number;
  readonly lastQuarterMedianBytes: number;
  /** lastQuarterMedian ÷ secondQuarterMedian. */
  readonly quarterRatio: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** The criterion in words, with its thresholds. */
  readonly criterion: string;
}

/** Median of a list (NaN when empty). */
export function medianOf(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Least-squares slope of y over x (0 for fewer than two distinct x). */
export function slopeOf(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.x - mx) * (p.y - my);
    den += (p.x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/** Applies the criterion to samples taken over a run of `durationMs` (quarters by time). */
export function rssVerdict(samples: readonly RssSample[], durationMs: number): RssVerdict {
  const c = RSS_CRITERION;
  const criterion = `slope of a least-squares fit over the second half ≤ ${c.maxSlopeMbPerMin} MB/min and last-quarter median ≤ ${c.maxQuarterRatio} × second-quarter median`;
  const within = (from: number, to: number) => samples.filter((s) => s.atMs >= from * durationMs && s.atMs <= to * durationMs);
  const secondHalf = within(0.5, 1);
  const q2 = medianOf(within(0.25, 0.5).map((s) => s.rssBytes));
  const q4 = medianOf(within(0.75, 1).map((s) => s.rssBytes));
  const slopeBytesPerMs = slopeOf(secondHalf.map((s) => ({ x: s.atMs, y: s.rssBytes })));
  const slopeMbPerMin = (slopeBytesPerMs * 60_000) / 1e6;
  const quarterRatio = q4 / q2;
  const all = samples.map((s) => s.rssBytes);
  const enough = secondHalf.length >= c.minSamples && Number.isFinite(quarterRatio);
  return {
    flat: enough ? slopeMbPerMin <= c.maxSlopeMbPerMin && quarterRatio <= c.maxQuarterRatio : undefined,
    slopeMbPerMin,
    secondQuarterMedianBytes: q2,
    lastQuarterMedianBytes: q4,
    quarterRatio,
    minBytes: all.length ? Math.min(...all) : Number.NaN,
    maxBytes: all.length ? Math.max(...all) : Number.NaN,
    criterion,
  };
}
