import { describe, expect, it } from 'vitest';
import gupFast from '../../scenarios/gup-fast-vs-table-free.js';
import { knobsLabel, sweepKnobs, withKnobs } from '../../src/harness/soak.js';
import { usePool } from '../helpers.js';
import { runCombination } from '../scenarios/helpers.js';

const pool = usePool();
/** Iterations per clean combination and knob setting (the soak runs more, with at least 4 CPUs). */
const SWEEP_ITERATIONS = 10;
/** Stress iterations a caught combination may take before the PCT scheduler is asked. */
const CATCH_WITHIN = 40;

/**
 * The knob sweep of `npm run soak`, short, on the scenario whose false
 * positive it was written for (gup_fast with small gather batches), at the
 * scenario's own CPU count.
 */
describe('knob sweep: gup-fast-vs-table-free under every batch capacity and allocator order', () => {
  for (const knobs of sweepKnobs()) {
    const s = withKnobs(gupFast, knobs);
    it(`[${knobsLabel(knobs)}] clean combinations stay clean, caught ones are caught`, async () => {
      for (const c of s.combinations) {
        if (c.expect === 'clean') {
          const r = await runCombination(s, c, { pool: pool(), iterations: SWEEP_ITERATIONS, seed: 1 });
          expect(r.violations, `${r.archLabel} / ${r.hw}: ${JSON.stringify(r.firstViolation)}`).toBe(0);
          expect(r.iterations).toBe(SWEEP_ITERATIONS);
        } else {
          let r = await runCombination(s, c, { pool: pool(), iterations: CATCH_WITHIN, seed: 1, stopAtFirst: true });
          if (r.outcome !== 'caught') r = await runCombination(s, c, { pool: pool(), iterations: CATCH_WITHIN, seed: 1, stopAtFirst: true, mode: 'pct' });
          expect(r.outcome, `${r.archLabel} / ${r.hw} not caught`).toBe('caught');
        }
      }
    });
  }
});
