// What a failing raceTests test says (src/testing/vitest.ts failureMessage): a violation comes with a
// replay token and the command that replays it, a missed catch with what ran and how to look further.
import { describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { findScenario } from '../../scenarios/index.js';
import { replay } from '../../src/harness/replay.js';
import type { Combination } from '../../src/harness/scenario.js';
import { failureMessage, runCombination } from '../../src/testing/vitest.js';
import { usePool } from '../helpers.js';

const pool = usePool();

describe('raceTests failure messages', () => {
  it('a clean expectation that got caught carries a token that replays the violation', async () => {
    // The bug before the delayed-free fix, declared clean by mistake (it shows in nearly every iteration).
    const c: Combination = { arch: 'arm-2.6.37', hw: 'armv7-mp', expect: 'clean' };
    // Any token replays it, shrunk or not: the shrinking gets half a second.
    const o = { cleanIterations: 5, cpus: 2, shrinkMs: 500 };
    const r = await runCombination(armDelayedFree, c, pool(), o);
    expect(r.report.outcome).toBe('caught');
    const message = await failureMessage(armDelayedFree, c, r, pool(), o);
    expect(message).toMatch(/^arm-2\.6\.37 on armv7-mp is expected clean but was caught \((stress|pct) mode\): [a-z-]+ on CPU \d+ at 0x[0-9a-f]+, frame \d+ \([a-z-]+\)/);
    expect(message).not.toContain('{');
    const token = /replay it with: npx smpsim replay (smp2\.[\w-]+)/.exec(message)![1];
    const replayed = await replay(token, { pool: pool(), loadScenario: async (ref) => findScenario(ref)! });
    expect(replayed.violations.length).toBeGreaterThan(0);
    expect(replayed.spec).toMatchObject({ scenario: 'arm-delayed-free', arch: 'arm-2.6.37', hw: 'armv7-mp' });
  });

  it('a caught expectation that came out clean says what ran and how to search further', async () => {
    // The fixed kernel, declared caught by mistake: stress and then the PCT scheduler find nothing.
    const c: Combination = { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'caught' };
    const o = { catchWithin: 3, pctIterations: 3, cpus: 3 };
    const r = await runCombination(armDelayedFree, c, pool(), o);
    expect(r.report.outcome).toBe('clean');
    const message = await failureMessage(armDelayedFree, c, r, pool(), o);
    expect(message).toBe(
      'arm-2.6.38 on armv7-mp is expected caught but came out clean: no violation in the stress iterations, nor in 3 pct iterations (seed 1); search further with `npx smpsim run arm-delayed-free --arch arm-2.6.38 --hw armv7-mp --mode pct --iterations 2000`, or check what the scenario expects',
    );
  });
});
