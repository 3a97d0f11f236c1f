import { describe, expect, it } from 'vitest';
import scenario from '../../scenarios/gup-fast-vs-table-free.js';
import { runScenario } from '../../src/harness/runner.js';
import type { Combination } from '../../src/harness/scenario.js';
import { usePool } from '../helpers.js';
import { shortOrLong } from '../long.js';
import { runCombination } from './helpers.js';

const pool = usePool();

/** The gather flushes and frees after every page: the batch size that exposed the false positive. */
const SMALLEST_BATCH = 1;
const BROADCAST = ['armv7-mp', 'arm64'] as const;
/**
 * The clean runs' iterations (150 stress and 30 pct in `npm run test:long`; the soak's knob sweep runs
 * batch capacity 1 too). At seed 1 the PCT scheduler has a walk meet the free within its first 5
 * iterations on both flavours (deterministically: a pct run is its seed's).
 */
const STRESS_ITERATIONS = shortOrLong(15, 150);
const PCT_ITERATIONS = shortOrLong(5, 30);

describe('gup_fast takes its references as each kernel did', () => {
  const tiny = { ...scenario, batchCapacity: SMALLEST_BATCH };

  for (const hw of BROADCAST) {
    const c: Combination = { arch: 'linux-6', hw, expect: 'clean' };
    it(`linux-6 on ${hw} with batch capacity ${SMALLEST_BATCH}: clean in stress mode, the speculative reference backing off instead`, async () => {
      const r = await runCombination(tiny, c, { pool: pool(), iterations: STRESS_ITERATIONS, seed: 1 });
      expect(r.violations, JSON.stringify(r.firstViolation)).toBe(0);
      expect(r.machine.gupPins).toBeGreaterThan(0);
    });

    it(`linux-6 on ${hw} with batch capacity ${SMALLEST_BATCH}: clean under the PCT scheduler, which makes the walk meet the free`, async () => {
      const r = await runCombination(tiny, c, { pool: pool(), iterations: PCT_ITERATIONS, seed: 1, mode: 'pct' });
      expect(r.violations, JSON.stringify(r.firstViolation)).toBe(0);
      // Pages were freed under walks in flight: the reference failed or the recheck saw the change.
      expect(r.machine.gupBackoffs).toBeGreaterThan(0);
    });
  }

  it('the irq-off get_page of the 2.6 era pins a freed page when nothing waits for the walker (generic-2011-series on arm64)', async () => {
    const c: Combination = { arch: 'generic-2011-series', hw: 'arm64', expect: 'caught' };
    // Stops at the first violating iteration: no gup_fast backed off in any iteration up to it.
    const r = await runCombination(tiny, c, { pool: pool(), iterations: 40, seed: 1, mode: 'pct', stopAtFirst: true });
    expect(r.outcome).toBe('caught');
    expect(r.machine.gupBackoffs).toBe(0);
  });

  it('a policy whose kernel had no lockless gup_fast refuses a gup_fast workload before any thread runs', async () => {
    await expect(runScenario({ scenario, combinations: [{ arch: 'arm-2.6.37', hw: 'armv7-mp', expect: null }], iterations: 1, pool: pool() })).rejects.toThrow(
      /get_user_pages_fast, which arm-2.6.37 does not have/,
    );
  });
});
