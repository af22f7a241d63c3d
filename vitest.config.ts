import { defineConfig } from 'vitest/config';

// `fuzz`: the fast-check properties of test/fuzz. A full run executes their seed set
// (BATON_FUZZ_RUNS unset: about ten seconds); `npm run fuzz` runs this project alone with
// BATON_FUZZ_RUNS=100000, so its tests may take as long as they need.
const longFuzz = Number(process.env['BATON_FUZZ_RUNS'] ?? 0) > 1000;

export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/*',
      'tools/bench',
      'test',
      { test: { name: 'fuzz', root: './test', include: ['fuzz/**/*.fuzz.test.ts'], testTimeout: longFuzz ? 0 : 60_000 } },
    ],
  },
});
