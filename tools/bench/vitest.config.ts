import { defineConfig } from 'vitest/config';

// Unit tests of the harness and the soak/crash helpers; the benchmarks themselves never run as tests.
export default defineConfig({ test: { include: ['src/**/*.test.ts'] } });
