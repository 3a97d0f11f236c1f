import { describe, expect } from 'vitest';
import scenario from '../../scenarios/gup-fast-vs-table-free.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario gup-fast-vs-table-free (domain 5.4)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 20,
    kinds: ['gup-fast-read-freed-table', 'gup-fast-pinned-freed-page'],
    freedBy: /^munmap\//,
    exercised: (r) => {
      // Two munmaps an iteration, each freeing two PTE tables and the PMD table; gup_fast ran.
      expect(r.kernel.frees.tables + r.kernel.frees.parked).toBe(6 * r.iterations);
      expect(r.machine.gupWalks).toBeGreaterThan(0);
    },
  });
});
