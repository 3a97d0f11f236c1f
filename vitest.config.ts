import { defineConfig } from 'vitest/config';
import PlainSummary from './test/plain-summary.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', new PlainSummary()],
    // Every test starts real CPU threads; the host has 2 cores, so test files
    // run one at a time to keep the races (and the timings) honest.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
