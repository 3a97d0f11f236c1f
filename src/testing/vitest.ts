import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuPool } from '../harness/pool.js';
import { runScenario } from '../harness/runner.js';
import { type Combination, type Scenario, archLabel } from '../harness/scenario.js';

export interface RaceTestOptions {
  /** Iterations for combinations expected caught (default 100; the run stops at the first violation). */
  caughtIterations?: number;
  /** Iterations for combinations expected clean (default 300). */
  cleanIterations?: number;
  cpus?: number;
  seed?: number;
  mode?: 'stress' | 'pct';
  /** Per-test timeout (ms, default 120 s). */
  timeout?: number;
}

/**
 * Race tests for a scenario in a few lines: one test per declared
 * combination, asserting the outcome the scenario expects (caught ones must
 * show a violation, clean ones none), on one warm pool of CPU threads.
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
      it(`${archLabel(c)} on ${c.hw} is ${c.expect}`, async () => {
        const r = await runCombination(scenario, c, pool, o);
        expect(r.outcome, r.firstViolation ? `first violation: ${JSON.stringify(r.firstViolation)}` : undefined).toBe(c.expect);
      }, o.timeout ?? 120_000);
    }
  });
}

/** Run one combination the way raceTests does; returns its report. */
export async function runCombination(scenario: Scenario, c: Combination, pool: CpuPool, o: RaceTestOptions = {}) {
  const caught = c.expect === 'caught';
  const report = await runScenario({
    scenario: { ...scenario, combinations: [c] },
    pool,
    cpus: o.cpus,
    seed: o.seed,
    mode: o.mode,
    iterations: caught ? (o.caughtIterations ?? 100) : (o.cleanIterations ?? 300),
    stopAtFirst: caught,
  });
  return report.combinations[0];
}
