import { describe, expect } from 'vitest';
import scenario from '../../scenarios/invlpgb-gup-fast.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario invlpgb-gup-fast (domain 4, 5.4 on x86 with INVLPGB)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 20,
    // gup_fast reads a page table freed under it (or pins a page freed under it).
    kinds: ['gup-fast-read-freed-table', 'gup-fast-pinned-freed-page', 'walker-read-freed-table'],
    freedBy: /^munmap\//,
    exercised: (r) => {
      expect(r.machine.gupWalks).toBeGreaterThan(0);
      expect(r.kernel.frees.tables).toBeGreaterThanOrEqual(r.iterations);
      // x86-invlpgb broadcasts: no flush goes by IPI there.
      if (r.hw === 'x86-invlpgb') expect(r.machine.broadcasts).toBeGreaterThan(0);
    },
  });
});
