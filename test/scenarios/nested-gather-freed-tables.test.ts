import { describe, expect, it } from 'vitest';
import scenario from '../../scenarios/nested-gather-freed-tables.js';
import { usePool } from '../helpers.js';
import { runCombination, testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario nested-gather-freed-tables (domain 5.9)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 20,
    // A walk through the walk-cache entry to the PTE table the munmap freed.
    kinds: ['walker-read-freed-table'],
    freedBy: /^munmap\//,
    exercised: (r) => {
      // The munmap freed A's PTE table every iteration.
      expect(r.kernel.frees.tables).toBeGreaterThanOrEqual(r.iterations);
    },
  });

  it('the nested finish differs only where the gathers can nest: linux-6 flushes the whole mm, 2.6.38 never nests', async () => {
    const full = await runCombination(scenario, { arch: 'linux-6', hw: 'arm64', expect: 'clean' }, { pool: pool(), iterations: 4, seed: 5, mode: 'pct' });
    // Each iteration: munmap's end_vma range flush plus its nested finish (flush_tlb_mm), madvise's own.
    expect(full.kernel.flushes.mm).toBe(full.iterations);
    const old = await runCombination(scenario, { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' }, { pool: pool(), iterations: 4, seed: 5, mode: 'pct' });
    expect(old.violations).toBe(0);
    expect(old.iterations).toBe(4);
  });
});
