import { describe, expect } from 'vitest';
import scenario from '../../scenarios/khugepaged-vs-gup-fast.js';
import { usePool } from '../helpers.js';
import { testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario khugepaged-vs-gup-fast (domain 5.10)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 30,
    // gup_fast reads the PTE table khugepaged freed (or, with the hardware walkers, a speculative walk does).
    kinds: ['gup-fast-read-freed-table', 'walker-read-freed-table'],
    freedBy: /^khugepaged\//,
    exercised: (r) => {
      expect(r.machine.gupWalks).toBeGreaterThan(0);
      // Four collapses an iteration; with 2ba99c5e0881 each sends one synchronising IPI where tables go through RCU.
      if (r.archOptions?.collapseSync !== 'none') expect(r.machine.syncIpis).toBeGreaterThanOrEqual(4 * r.iterations);
      else expect(r.machine.syncIpis).toBe(0);
    },
  });
});
