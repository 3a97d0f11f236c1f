import { expect, it } from 'vitest';
import type { CpuPool } from '../../src/harness/pool.js';
import type { CombinationReport } from '../../src/harness/report.js';
import { DEFAULT_CLEAN_ITERATIONS, MIN_CLEAN_CPUS, checkCombination } from '../../src/harness/check.js';
import { shortOrLong } from '../long.js';
import { runScenario } from '../../src/harness/runner.js';
import { type Combination, type Scenario, archLabel } from '../../src/harness/scenario.js';

/** "arm-2.6.38 / armv7-mp", "generic-range:itlb=always / armv7-mp". */
export function comboLabel(c: Combination): string {
  return `${archLabel(c)} / ${c.hw}`;
}

/**
 * Run one combination of a scenario in stress mode (real threads), for at
 * most `iterations` iterations; with stopAtFirst, stop after the first
 * iteration that shows a violation.
 */
export async function runCombination(
  s: Scenario,
  c: Combination,
  o: { pool: CpuPool; iterations: number; seed: number; stopAtFirst?: boolean; mode?: 'stress' | 'pct' },
): Promise<CombinationReport> {
  const report = await runScenario({
    scenario: s,
    combinations: [c],
    iterations: o.iterations,
    seed: o.seed,
    pool: o.pool,
    mode: o.mode,
    stopAtFirst: o.stopAtFirst,
  });
  expect(report.combinations).toHaveLength(1);
  return report.combinations[0];
}

/** What a failed expectation prints: enough to reproduce (seed, iteration) and see what fired. */
function summary(r: CombinationReport): string {
  const head = `${r.archLabel} / ${r.hw}: ${r.outcome} after ${r.iterations} iterations, ${r.violations} violations in ${r.violatingIterations}`;
  return r.firstViolation ? `${head}; first: ${JSON.stringify(r.firstViolation)}` : head;
}

export interface ExpectationOptions {
  pool: () => CpuPool;
  seed: number;
  /** Caught combinations: stop at the first violating iteration, fail if none within this many. */
  caughtWithin: number;
  /** Clean combinations: this many iterations without a violation (default CLEAN_ITERATIONS). */
  cleanIterations?: number;
  /** Violation kinds the first violation of a caught combination may have. */
  kinds: readonly string[];
  /** The kernel op that freed the frame of the first violation (e.g. /^munmap\//). */
  freedBy?: RegExp;
  /** Checks that a run exercised the race at all (tables freed, walks made...), caught or clean. */
  exercised?: (r: CombinationReport) => void;
}

/**
 * One test per declared combination, through the same check the soak and
 * `smpsim/testing` use (checkCombination): a caught combination must show a
 * violation of a plausible kind within a bounded stress run, or else under the
 * PCT scheduler; a clean one must run `cleanIterations` iterations, with at
 * least 4 CPUs, without any.
 */
export function testExpectations(s: Scenario, options: ExpectationOptions): void {
  const o = { ...options, cleanIterations: options.cleanIterations ?? CLEAN_ITERATIONS };
  for (const c of s.combinations) {
    const caught = c.expect === 'caught';
    const title = caught ? `caught within ${o.caughtWithin} stress iterations, or else by the PCT scheduler` : `clean over ${o.cleanIterations} iterations with at least ${MIN_CLEAN_CPUS} CPUs`;
    it(`${comboLabel(c)}: ${title}`, async () => {
      const { report: r } = await checkCombination(s, c, { pool: o.pool(), seed: o.seed, catchWithin: o.caughtWithin, cleanIterations: o.cleanIterations, pctIterations: PCT_ITERATIONS });
      expect(r.asExpected, summary(r)).toBe(true);
      if (caught) {
        const v = r.firstViolation!;
        expect(o.kinds, summary(r)).toContain(v.kind);
        if (o.freedBy) expect(v.freedBy?.op ?? '', summary(r)).toMatch(o.freedBy);
      } else {
        expect(r.iterations).toBe(o.cleanIterations);
        expect(r.violations, summary(r)).toBe(0);
      }
      o.exercised?.(r);
    });
  }
}

/** Iterations the PCT scheduler gets when stress mode missed a caught combination. */
const PCT_ITERATIONS = 40;

/**
 * Iterations a clean combination runs here. A clean check hunts false
 * positives, and that hunt is long only in the soak: `npm run soak` runs every
 * clean combination of every shipped scenario, 10,000 iterations in all, and
 * then under every sweep knob. Here each clean combination still runs with at
 * least 4 CPUs, through its race window (every iteration runs the whole
 * script), enough iterations for the checks of `exercised` to see the race's
 * machinery at work; `npm run test:long` runs DEFAULT_CLEAN_ITERATIONS
 * (raceTests' default) instead.
 */
export const CLEAN_ITERATIONS = shortOrLong(5, DEFAULT_CLEAN_ITERATIONS);
