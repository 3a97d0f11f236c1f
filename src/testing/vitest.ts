import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CheckOptions, type CheckResult, checkCombination } from '../harness/check.js';
import { CpuPool } from '../harness/pool.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Combination, type Scenario, archLabel } from '../harness/scenario.js';
import { reproduce, shrinkSummary } from '../harness/reproduction.js';
import { tokenScenario } from '../harness/runner.js';
import { archSpec } from '../cli/arch-spec.js';
import { shellWord } from '../cli/reproduce.js';

export { checkCombination, type CheckOptions, type CheckResult } from '../harness/check.js';
export { DEFAULT_CATCH_WITHIN, DEFAULT_CLEAN_ITERATIONS, DEFAULT_PCT_ITERATIONS, MIN_CLEAN_CPUS } from '../harness/check.js';

export interface RaceTestOptions extends Omit<CheckOptions, 'pool'> {
  /** Per-test timeout (ms, default 120 s). */
  timeout?: number;
  /**
   * The scenario's file (a path or a file: URL, e.g. `new URL('./my-scenario.ts',
   * import.meta.url)`), so that a failure's replay token names the file
   * (relative to the working directory, with its hash); default: the
   * scenario's name, which `smpsim replay` finds for registered scenarios.
   */
  file?: string | URL;
  /** Bounds (ms) of the pct token search after a stress violation and of the shrink (defaults 10 s and 5 s; 0 skips). */
  searchMs?: number;
  shrinkMs?: number;
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
        const message = r.report.outcome === c.expect ? undefined : await failureMessage(scenario, c, r, pool, o);
        if (c.expect !== null) expect(r.report.outcome, message).toBe(c.expect);
        else expect(r.report.iterations).toBeGreaterThan(0);
      }, o.timeout ?? 120_000);
    }
  });
}

/**
 * Why a combination did not come out as declared, in words a test report
 * can carry: for a violation, what it was and a replay token (the run's,
 * else one the PCT scheduler found for the same combination; shrunk) with
 * the command that replays it; for a missed catch, what ran and how to
 * look further.
 */
export async function failureMessage(scenario: Scenario, c: Combination, r: CheckResult, pool: CpuPool, o: RaceTestOptions = {}): Promise<string> {
  const rep = r.report;
  const name = `${archLabel(c)} on ${c.hw}`;
  const ref = scenarioRef(scenario, o.file);
  const cli = `npx smpsim run ${shellWord(ref.arg)} --arch ${shellWord(archSpec(c))} --hw ${c.hw}`;
  if (rep.outcome === 'clean') {
    const pct = r.via === 'pct' ? `, nor in ${rep.iterations} pct iterations (seed ${o.seed ?? 1})` : '';
    return `${name} is expected caught but came out clean: no violation in the stress iterations${pct}; search further with \`${cli} --mode pct --iterations 2000\`, or check what the scenario expects`;
  }
  const v = rep.firstViolation!;
  const what = `${v.kind} on CPU ${v.cpu} at ${v.address}, frame ${v.frame} (${v.frameKind})${v.freedBy ? `, freed by ${v.freedBy.op} on CPU ${v.freedBy.cpu}` : ''}`;
  const head = `${name} is expected ${c.expect ?? 'to run'} but was caught (${r.via} mode): ${what}`;
  const found = await reproduce({
    scenario,
    scenarioRef: ref.name,
    scenarioFile: ref.file,
    combination: { ...c, expect: null },
    report: rep,
    cpus: r.cpus,
    seed: o.seed ?? 1,
    pool,
    searchMs: o.searchMs,
    shrinkMs: o.shrinkMs,
  });
  if (found.token) return `${head}; replay it with: npx smpsim replay ${found.token}${found.shrink ? ` (shrunk: ${shrinkSummary(found.shrink)})` : ''}`;
  return `${head}; the PCT scheduler did not catch it within the search bound, so there is no replay token: rerun the stress iterations with \`${cli} --iterations ${(rep.firstViolatingIteration ?? 0) + 1} --cpus ${r.cpus}\``;
}

/** How a token and a command name the scenario: its file when given (relative path, hash), else its name. */
function scenarioRef(scenario: Scenario, file: string | URL | undefined): { arg: string; name: string; file?: { path: string; sha256: string } } {
  if (file === undefined) return { arg: scenario.name, name: scenario.name };
  const path = file instanceof URL || file.startsWith('file:') ? fileURLToPath(file) : resolve(file);
  const sha256 = createHash('sha256').update(readFileSync(path)).digest('hex');
  const rel = tokenScenario(path, { path, sha256 }).scenario;
  return { arg: rel, name: path, file: { path, sha256 } };
}

/** Run one combination the way raceTests does. */
export function runCombination(scenario: Scenario, c: Combination, pool: CpuPool, o: RaceTestOptions = {}): Promise<CheckResult> {
  return checkCombination(scenario, c, { ...o, pool });
}
