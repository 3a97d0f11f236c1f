import { describe, expect } from 'vitest';
import scenario from '../../scenarios/lazy-tlb-table-free.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario lazy-tlb-table-free (domain 5.6)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 30,
    // A lazy CPU's speculative walk reads a page table freed under its walk-cache pointer.
    kinds: ['walker-read-freed-table'],
    freedBy: /^(munmap|khugepaged)\//,
    exercised: (r) => {
      // CPUs were lazy, and on IPI hardware flushes reached some of them (they left the mm) or skipped them.
      expect(r.machine.lazy.periods).toBeGreaterThan(r.iterations);
      if (r.hw === 'x86') expect(r.machine.lazy.leaves + r.machine.lazy.catchUps).toBeGreaterThan(0);
      expect(r.kernel.frees.tables).toBeGreaterThanOrEqual(r.iterations);
    },
  });
});
