import { describe, expect, it } from 'vitest';
import gupFast from '../../scenarios/gup-fast-vs-table-free.js';
import { knobsLabel, sweepKnobs, withKnobs } from '../../src/harness/soak.js';
import { usePool } from '../helpers.js';
import { shortOrLong } from '../long.js';
import { checkCombination } from '../../src/harness/check.js';

const pool = usePool();
/**
 * Iterations per clean combination and knob setting: every setting is checked
 * here, briefly; `npm run soak` sweeps every clean combination of every shipped
 * scenario under every setting (20 iterations each, at least 4 CPUs), and
 * `npm run test:long` runs this file with 10.
 */
const SWEEP_ITERATIONS = shortOrLong(2, 10);
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
        // The scenario's own CPU count for clean combinations too: fast enough for the suite.
        const { report: r } = await checkCombination(s, c, { pool: pool(), seed: 1, cleanCpus: 1, cleanIterations: SWEEP_ITERATIONS, catchWithin: CATCH_WITHIN, pctIterations: CATCH_WITHIN });
        expect(r.asExpected, `${r.archLabel} / ${r.hw}: ${r.outcome}, ${JSON.stringify(r.firstViolation)}`).toBe(true);
        if (c.expect === 'clean') expect(r.iterations).toBe(SWEEP_ITERATIONS);
      }
    });
  }
});
