import { describe, expect, it } from 'vitest';
import scenario from '../../scenarios/rcu-table-free-fallback.js';
import { usePool } from '../helpers.js';
import { runCombination, testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario rcu-table-free-fallback (domain 5.5)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 30,
    // A speculative walk through the walk-cache entry to the PTE table tlb_remove_table_one freed.
    kinds: ['walker-read-freed-table'],
    freedBy: /^munmap\//,
    exercised: (r) => {
      // Every table went down the fallback: freed at once, after its IPI, none batched.
      expect(r.kernel.frees.tables).toBeGreaterThanOrEqual(r.iterations);
      expect(r.kernel.syncIpis).toBeGreaterThanOrEqual(r.kernel.frees.tables);
    },
  });

  it('with the batch page allocated, the pre-4.19 policy frees tables only after the invalidate (the fallback is the race)', async () => {
    const c = { arch: 'linux-6', archOptions: { tableFallback: 'no-invalidate' as const }, hw: 'arm64', expect: 'clean' as const };
    const r = await runCombination({ ...scenario, tableBatchAlloc: 'ok' }, c, { pool: pool(), iterations: 30, seed: 1 });
    expect(r.violations).toBe(0);
    expect(r.kernel.frees.tables).toBeGreaterThanOrEqual(r.iterations);
  });
});
