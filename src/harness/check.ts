import type { CpuPool } from './pool.js';
import type { CombinationReport } from './report.js';
import { runScenario } from './runner.js';
import type { Combination, Scenario } from './scenario.js';

/** Iterations a clean combination runs, and a caught one may take, unless told otherwise. */
export const DEFAULT_CLEAN_ITERATIONS = 300;
export const DEFAULT_CATCH_WITHIN = 100;
/** Iterations the PCT scheduler gets when stress mode missed a caught combination. */
export const DEFAULT_PCT_ITERATIONS = 100;
/** Clean combinations hunt false positives with at least this many CPUs (more threads than host cores). */
export const MIN_CLEAN_CPUS = 4;

export interface CheckOptions {
  pool: CpuPool;
  seed?: number;
  /** CPUs (default: the scenario's; clean combinations at least `cleanCpus`). */
  cpus?: number;
  /** The fewest CPUs a clean combination runs with (default MIN_CLEAN_CPUS). */
  cleanCpus?: number;
  cleanIterations?: number;
  catchWithin?: number;
  pctIterations?: number;
}

export interface CheckResult {
  report: CombinationReport;
  /** How a caught combination was caught (or missed): free-running threads, or the PCT scheduler after stress missed. */
  via: 'stress' | 'pct';
  /** The CPUs it ran with. */
  cpus: number;
}

/**
 * Check one combination against its expectation, the way the suite, the soak
 * and `smpsim/testing` all do:
 *  - clean: `cleanIterations` stress iterations with at least MIN_CLEAN_CPUS
 *    CPUs; any violation is a false positive (a bug in smpsim);
 *  - caught: stress iterations, stopping at the first violation, at the
 *    scenario's own CPU count (a race may need fewer threads than the host has
 *    cores to show free-running); if stress mode misses it, which depends on the
 *    host's scheduler, the PCT scheduler must find it, deterministically for
 *    the seed.
 * A combination with no expectation runs as a clean one. The report's
 * asExpected says whether it came out as declared.
 */
export async function checkCombination(scenario: Scenario, c: Combination, o: CheckOptions): Promise<CheckResult> {
  const base = { scenario, combinations: [c], pool: o.pool, seed: o.seed ?? 1 };
  const own = o.cpus ?? scenario.cpus ?? 4;
  if (c.expect !== 'caught') {
    const cpus = Math.max(o.cleanCpus ?? MIN_CLEAN_CPUS, own);
    const r = await runScenario({ ...base, cpus, iterations: o.cleanIterations ?? DEFAULT_CLEAN_ITERATIONS });
    return { report: r.combinations[0], via: 'stress', cpus };
  }
  const stress = await runScenario({ ...base, cpus: own, iterations: o.catchWithin ?? DEFAULT_CATCH_WITHIN, stopAtFirst: true });
  if (stress.combinations[0].outcome === 'caught') return { report: stress.combinations[0], via: 'stress', cpus: own };
  const pct = await runScenario({ ...base, cpus: own, iterations: o.pctIterations ?? DEFAULT_PCT_ITERATIONS, stopAtFirst: true, mode: 'pct' });
  return { report: pct.combinations[0], via: 'pct', cpus: own };
}
