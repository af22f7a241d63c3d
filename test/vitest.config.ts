import { configDefaults, defineConfig } from 'vitest/config';

// Cross-package suites start real processes (authority, resource servers, agents):
// allow each test and hook a minute, far above what they need on a quiet machine.
// The fuzz properties (fuzz/) belong to the separate `fuzz` project of the root config,
// so a full run executes them exactly once.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    exclude: [...configDefaults.exclude, 'fuzz/**'],
  },
});
