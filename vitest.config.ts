import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Model-heavy suites share 2 cores; files run in parallel up to this many workers.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
