/**
 * How hard the fuzz properties run. `BATON_FUZZ_RUNS` sets the runs of a standard
 * property (default 80: the seed set that `npm test` runs in about ten seconds);
 * `npm run fuzz` sets it to 100 000. `BATON_FUZZ_SEED` replays a reported failure.
 */
import type fc from 'fast-check';

const fromEnv = Number(process.env['BATON_FUZZ_RUNS'] ?? '');
/** Runs of a standard property. */
export const RUNS = Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
const seed = Number(process.env['BATON_FUZZ_SEED'] ?? '');

/**
 * fast-check parameters. In the seed set `weight` scales a property's runs (cheap parsers
 * run more); a campaign (more than 1 000 runs) gives every property exactly RUNS.
 */
export function runs(weight = 1): fc.Parameters<unknown> {
  return {
    numRuns: Math.max(1, Math.round(RUNS > 1000 ? RUNS : RUNS * weight)),
    ...(Number.isSafeInteger(seed) && process.env['BATON_FUZZ_SEED'] !== undefined ? { seed } : {}),
  };
}

/** A per-test timeout that grows with the run count (vitest's default suits only the seed set). */
export const TIMEOUT_MS = Math.max(30_000, RUNS * 20);
