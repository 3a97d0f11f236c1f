import { describe, expect } from 'vitest';
import { FLAVOURS } from '../../src/machine/flavours.js';
import scenario from '../../scenarios/speculative-table-walk.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario speculative-table-walk (domain 5.2)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 30,
    // Only speculative walks go to the unmapped range, so only a walker can see the freed table.
    kinds: ['walker-read-freed-table'],
    freedBy: /^munmap\/(pte_free_tlb|tlb_finish_mmu|tlb_flush_mmu)$/,
    exercised: (r) => {
      // Both PTE tables are freed (or parked on the quicklist) in every iteration, and the other CPUs
      // walked speculatively where the hardware does.
      expect(r.kernel.frees.tables + r.kernel.frees.parked).toBe(2 * r.iterations);
      if (FLAVOURS[r.hw].config.speculation) expect(r.machine.speculativeWalks).toBeGreaterThan(0);
      else expect(r.machine.speculativeWalks).toBe(0);
    },
  });
});
