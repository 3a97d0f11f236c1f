import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckOptions, type CheckResult, checkCombination } from '../harness/check.js';
import { CpuPool } from '../harness/pool.js';
import { type Combination, type Scenario, archLabel } from '../harness/scenario.js';

export { checkCombination, type CheckOptions, type CheckResult } from '../harness/check.js';
export { DEFAULT_CATCH_WITHIN, DEFAULT_CLEAN_ITERATIONS, DEFAULT_PCT_ITERATIONS, MIN_CLEAN_CPUS } from '../harness/check.js';

export interface RaceTestOptions extends Omit<CheckOptions, 'pool'> {
  /** Per-test timeout (ms, default 120 s). */
  timeout?: number;
}

/**
 * Race tests for a scenario in a few lines: one test per declared
 * combination, asserting the outcome the scenario expects (caught ones must
 * show a violation, in stress mode or else under the PCT scheduler; clean ones
 * none, with at least 4 CPUs), on one warm pool of CPU threads. See
 * checkCombination for exactly what runs.
 *
 *   import { raceTests } from 'smpsim/testing';
 *   import myScenario from './my-scenario.js';
 *   raceTests(myScenario);
 */
export function raceTests(scenario: Scenario, o: RaceTestOptions = {}): void {
  describe(`scenario ${scenario.name}`, () => {
    let pool: CpuPool;
    beforeAll(() => {
      pool = new CpuPool();
    });
    afterAll(async () => {
      await pool.close();
    });
    for (const c of scenario.combinations) {
      it(`${archLabel(c)} on ${c.hw} is ${c.expect ?? 'run (no expectation)'}`, async () => {
        const r = await runCombination(scenario, c, pool, o);
        if (c.expect !== null) expect(r.report.outcome, r.report.firstViolation ? `first violation: ${JSON.stringify(r.report.firstViolation)}` : undefined).toBe(c.expect);
        else expect(r.report.iterations).toBeGreaterThan(0);
      }, o.timeout ?? 120_000);
    }
  });
}

/** Run one combination the way raceTests does. */
export function runCombination(scenario: Scenario, c: Combination, pool: CpuPool, o: RaceTestOptions = {}): Promise<CheckResult> {
  return checkCombination(scenario, c, { ...o, pool });
}
