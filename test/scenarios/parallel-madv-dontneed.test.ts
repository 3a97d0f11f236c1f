import { describe, expect, it } from 'vitest';
import scenario from '../../scenarios/parallel-madv-dontneed.js';
import { usePool } from '../helpers.js';
import { runCombination, testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario parallel-madv-dontneed (domain 5.8)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 20,
    // The 2011 kernels: CPU 1's madvise returns with the range still cached (stale-translation-after-return);
    // arm-2.6.37 and sh-2.6.38 also free each page while zapping, so a write to a freed page may come first.
    kinds: ['stale-translation-after-return', 'stale-data-access'],
    exercised: (r) => {
      // Both calls ran every iteration, and CPU 0's removed the 48 pages.
      expect(r.kernel.frees.data).toBe(48 * r.iterations);
      expect(r.machine.accesses).toBeGreaterThan(0);
    },
  });

  it('names the CPU whose call returned with the range cached, in stress and pct mode alike', async () => {
    const c = scenario.combinations.find((x) => x.arch === 'generic-2011-series')!;
    for (const mode of ['stress', 'pct'] as const) {
      const r = await runCombination(scenario, c, { pool: pool(), iterations: 5, seed: 3, mode, stopAtFirst: true });
      expect(r.outcome).toBe('caught');
      expect(r.firstViolation!.kind).toBe('stale-translation-after-return');
      expect(r.firstViolation!.call).toEqual({ op: 'madvise(DONTNEED)', cpu: 1 });
      expect(r.firstViolation!.cpu).toBeGreaterThanOrEqual(2);
    }
  });
});
