import { describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { runSoak, sweepKnobs } from '../../src/harness/soak.js';
import { usePool } from '../helpers.js';

const pool = usePool();

/**
 * The soak's own machinery, on a small scenario (every declared combination of
 * every scenario is already checked, the same way, by test/scenarios/).
 */
const small = {
  ...armDelayedFree,
  combinations: [
    { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' as const },
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' as const },
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' as const },
  ],
};
/** Odd on purpose: the remainder goes to the first clean combination. */
const CLEAN_ITERATIONS = 7;
const SWEEP_ITERATIONS = 1;

describe('soak (`npm run soak`)', () => {
  it('spreads the clean iterations over the clean combinations, requires every caught one caught, then sweeps every knob setting', async () => {
    const lines: string[] = [];
    const r = await runSoak({ scenarios: [small], iterations: CLEAN_ITERATIONS, cpus: 4, pool: pool(), onLine: (l) => lines.push(l), catchWithin: 50, sweepIterations: SWEEP_ITERATIONS });
    const knobs = sweepKnobs().length;
    expect(r.rows).toHaveLength(small.combinations.length * (1 + knobs));
    expect(lines).toHaveLength(r.rows.length);
    const base = r.rows.filter((row) => row.knobs === null);
    expect(base.filter((row) => row.expected === 'clean').map((row) => row.iterations)).toEqual([4, 3]);
    expect(r.cleanIterations).toBe(CLEAN_ITERATIONS + knobs * 2 * SWEEP_ITERATIONS);
    for (const row of r.rows) {
      if (row.expected === 'clean') expect(row, lines.join('\n')).toMatchObject({ violations: 0, ok: true });
      else expect(row.caughtAt, `${row.combination} [${row.knobs}] not caught`).not.toBeNull();
    }
    expect(r.ok).toBe(true);
  }, 600_000);
});
