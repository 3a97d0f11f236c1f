import { describe, expect } from 'vitest';
import scenario from '../../scenarios/arm-delayed-free.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario arm-delayed-free (domain 5.1)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 20,
    // The other CPUs load and store through TLB entries to pages munmap freed while zapping; on
    // armv7-mp arm-2.6.37 also frees the PTE table under the speculative walkers' walk caches, and
    // that is seen first in about half the seeds.
    kinds: ['stale-data-access', 'walker-read-freed-table'],
    freedBy: /^munmap\//,
    exercised: (r) => {
      expect(r.kernel.frees.data).toBe(48 * r.iterations);
      expect(r.machine.accesses).toBeGreaterThan(0);
    },
  });
});
