import { defineConfig } from 'vitest/config';

// Tests start real authority processes and spawn the built CLI.
export default defineConfig({ test: { testTimeout: 30_000, hookTimeout: 60_000 } });
