import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { builtinScenarios } from '../scenarios/index.js';
import { paramPoints } from '../src/harness/param-points.js';
import type { ParamSweepResult } from '../src/harness/soak-params.js';
import { runSoak } from '../src/harness/soak.js';
import { fuzzCli } from './fuzz/check.js';

/** `npm run soak [-- --iterations N] [--cpus N] [--seed S] ...`: see src/harness/soak.ts, soak-params.ts and tools/fuzz/. */
const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

interface SoakCli {
  iterations: number;
  cpus: number;
  seed: number;
  catchWithin: number;
  sweepIterations: number;
  paramIterations: number;
  paramRounds: number;
  fuzz: number;
  only?: string[];
}

const program = new Command('soak')
  .description('every clean combination for N iterations in all (a violation fails the soak); every caught combination must be caught; then the knob and parameter sweeps, and the fuzzer')
  .option('-n, --iterations <n>', 'iterations over all clean combinations', int('iterations', 1), 10_000)
  .option('-c, --cpus <n>', 'CPUs (at least 4)', int('cpus', 4), 4)
  .option('-s, --seed <s>', 'seed (of the runs and of the fuzzer)', int('seed', 0), 1)
  .option('--catch-within <n>', 'iterations a caught combination may take', int('catch-within', 1), 300)
  .option('--sweep-iterations <n>', 'then every clean combination under every sweep knob (batch capacity, allocator order, table batch allocation) for N iterations each (0: no sweep)', int('sweep-iterations', 0), 20)
  .option('--param-iterations <n>', 'then the parameter sweep: every clean combination on 8 machines (CPUs 2 to 9, batch capacities 1 to 500, every allocator order, small and large TLBs and walk caches) for N iterations each (0: none)', int('param-iterations', 0), 10)
  .option('--param-rounds <n>', 'rounds of 8 machines per combination in the parameter sweep, each pairing the parameters differently', int('param-rounds', 1), 1)
  .option('--fuzz <n>', 'then N generated bad inputs (command lines, scenario files, replay tokens) through the CLI, each to be refused with exit 2 and one line (0: none)', int('fuzz', 0), 3000)
  .option('--only <names>', 'only these shipped scenarios (comma-separated names)', (v: string) => {
    const names = v.split(',').map((x) => x.trim()).filter(Boolean);
    const unknown = names.filter((n) => !builtinScenarios().some((s) => s.name === n));
    if (!names.length || unknown.length) throw new InvalidArgumentError(`unknown scenario ${unknown.join(', ') || "''"} (known: ${builtinScenarios().map((s) => s.name).join(', ')})`);
    return names;
  })
  .action(async (o: SoakCli) => {
    const t0 = performance.now();
    const seconds = (since: number): string => `${((performance.now() - since) / 1000).toFixed(0)} s`;
    const scenarios = o.only ? builtinScenarios().filter((s) => o.only!.includes(s.name)) : builtinScenarios();
    const r = await runSoak({ ...o, scenarios, onLine: (l) => console.log(l) });
    const failed = r.rows.filter((x) => !x.ok);
    const lines = [
      `\nsoak: ${r.cleanIterations} clean iterations over ${r.rows.filter((x) => x.expected === 'clean').length} combination runs (knob sweep included), ` +
        `${r.rows.filter((x) => x.expected === 'caught' && x.ok).length}/${r.rows.filter((x) => x.expected === 'caught').length} caught combinations caught` +
        `${failed.length ? `: FAILED (${failed.length})` : ''}`,
    ];
    if (r.params) lines.push(...paramSummary(r.params, o.paramRounds * paramPoints().length));
    let ok = r.ok;
    if (o.fuzz > 0) {
      const t1 = performance.now();
      const root = mkdtempSync(join(tmpdir(), 'smpsim-soak-fuzz-'));
      try {
        const counts = await fuzzCli({ runs: o.fuzz, seed: o.seed, root });
        lines.push(`fuzz: ${Object.values(counts).reduce((a, b) => a + b, 0)} bad inputs (${Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(', ')}), seed ${o.seed}: every one refused with exit 2 and one line, ${seconds(t1)}`);
      } catch (e) {
        ok = false;
        lines.push(
          `fuzz: FAILED; replay it with SMPSIM_FUZZ_SEED=${o.seed} SMPSIM_FUZZ_RUNS=${o.fuzz} npx vitest run test/cli/fuzz.test.ts (add SMPSIM_FUZZ_PATH=<path below> for the one case):\n${(e as Error).message}`,
        );
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    }
    lines.push(`soak: ${seconds(t0)}: ${ok ? 'passed' : 'FAILED'}`);
    console.log(lines.join('\n'));
    process.exitCode = ok ? 0 : 1;
  });

/** The parameter sweep's counts: runs, iterations, violations, what each value of each dimension got, and what was skipped and why. */
function paramSummary(p: ParamSweepResult, points: number): string[] {
  const skipped = [...p.skipped].map(([why, n]) => `  skipped ${n}: ${why}`);
  return [
    `parameters: ${p.combinations} clean combinations x ${points} machines: ${p.runs} runs, ${p.iterations} iterations, ${p.violations} violations${p.failures.length ? ` (FAILED: ${p.failures.length} runs)` : ''}`,
    ...p.failures.map((f) => `  FAIL ${f}`),
    ...[...p.coverage].map(([dim, values]) => `  ${`${dim}:`.padEnd(12)}${[...values].map(([v, n]) => `${v} (${n} runs)`).join(', ')}`),
    ...skipped,
  ];
}

program.parseAsync().catch((e: unknown) => {
  console.error(`soak: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 3;
});
