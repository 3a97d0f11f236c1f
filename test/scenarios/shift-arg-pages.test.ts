import { describe, expect } from 'vitest';
import scenario from '../../scenarios/shift-arg-pages.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario shift-arg-pages (domain 5.3)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    // sh-2.6.38 on sh4 shows in stress mode in about one iteration in ten (a miss handler in flight
    // meets the reused table), and the PCT scheduler misses it at this seed: 100 stress iterations keep
    // a miss unlikely (0.9^100), and cost nothing once it shows, since a caught run stops there.
    caughtWithin: 100,
    // Demand and speculative walks of the old stack go through the walk cache to the freed table.
    kinds: ['walker-read-freed-table'],
    freedBy: /^shift_arg_pages\//,
    exercised: (r) => {
      // One PTE table (the vacated stack's) per iteration, freed or parked on the quicklist (ia64, sh),
      // and no data page: shift_arg_pages moves them.
      expect(r.kernel.frees.tables + r.kernel.frees.parked).toBe(r.iterations);
      expect(r.kernel.frees.data).toBe(0);
      expect(r.machine.walks).toBeGreaterThan(0);
    },
  });
});
