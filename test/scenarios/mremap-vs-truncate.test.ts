import { describe, expect, it } from 'vitest';
import scenario from '../../scenarios/mremap-vs-truncate.js';
import { usePool } from '../helpers.js';
import { runCombination, testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario mremap-vs-truncate (domain 5.7, CVE-2018-18281)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 20,
    // A load through the old address reaches the page truncate freed, or truncate returns with the old address cached.
    kinds: ['stale-data-access', 'stale-translation-after-return'],
    freedBy: /^truncate\/truncate_inode_pages$/,
    exercised: (r) => {
      // Every iteration: the truncate zapped the 16 moved PTEs at the new address (their references released by its gathers).
      expect(r.kernel.frees.data).toBeGreaterThanOrEqual(16 * r.iterations);
      expect(r.machine.accesses).toBeGreaterThan(0);
    },
  });

  for (const mode of ['stress', 'pct'] as const) {
    it(`${mode}: before 4.19 a load through the old address reaches the freed page; 4.9-4.18 only in the clean extent`, async () => {
      for (const mremapFlush of ['after-unlock', 'dirty-under-ptl'] as const) {
        const r = await runCombination(scenario, { arch: 'linux-6', archOptions: { mremapFlush }, hw: 'x86', expect: 'caught' }, { pool: pool(), iterations: 3, seed: 2, mode });
        expect(r.violatingIterations, mremapFlush).toBe(r.iterations);
        const v = r.firstViolation!;
        expect(v.freedBy?.op).toBe('truncate/truncate_inode_pages');
        expect(v.cpu).toBeGreaterThanOrEqual(2);
        // The old range [56, 72); with dirty-under-ptl only its clean first extent [56, 64) is left cached.
        expect(v.vpn).toBeGreaterThanOrEqual(56);
        expect(v.vpn).toBeLessThan(mremapFlush === 'dirty-under-ptl' ? 64 : 72);
      }
    });
  }
});
