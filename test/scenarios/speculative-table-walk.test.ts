import { describe, expect } from 'vitest';
import scenario from '../../scenarios/speculative-table-walk.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario speculative-table-walk (domain 5.2)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 30,
    cleanIterations: 50,
    // Only speculative walks go to the unmapped range, so only a walker can see the freed table.
    kinds: ['walker-read-freed-table'],
    freedBy: /^munmap\/(pte_free_tlb|tlb_finish_mmu|tlb_flush_mmu)$/,
    exercised: (r) => {
      // Both PTE tables are freed in every iteration, and the other CPUs walked speculatively.
      expect(r.kernel.frees.tables).toBe(2 * r.iterations);
      expect(r.machine.speculativeWalks).toBeGreaterThan(0);
    },
  });
});
