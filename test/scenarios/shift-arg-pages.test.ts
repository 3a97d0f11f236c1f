import { describe, expect } from 'vitest';
import scenario from '../../scenarios/shift-arg-pages.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario shift-arg-pages (domain 5.3)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    // arm-2.6.37 / arm11mpcore needs a walker to refill its walk cache between move_page_tables' last
    // flush and free_pgtables' pmd_clear: about 1 stress iteration in 14 at 4 CPUs, on threads that
    // share the host's cores through the host-core gate or have one each (the PCT scheduler, which
    // never interleaves inside an access, does not find it).
    caughtWithin: 120,
    cleanIterations: 50,
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
