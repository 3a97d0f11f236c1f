import { Command, InvalidArgumentError } from 'commander';
import { SCENARIOS } from '../scenarios/index.js';
import { runSoak } from '../src/harness/soak.js';

/** `npm run soak [-- --iterations N] [--cpus N] [--seed S]`: see src/harness/soak.ts. */
const int = (name: string, min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}`);
  return n;
};

const program = new Command('soak')
  .description('every clean combination for N iterations in all (a violation fails the soak); every caught combination must be caught')
  .option('-n, --iterations <n>', 'iterations over all clean combinations', int('iterations', 1), 10_000)
  .option('-c, --cpus <n>', 'CPUs (at least 4)', int('cpus', 4), 4)
  .option('-s, --seed <s>', 'seed', int('seed', 0), 1)
  .option('--catch-within <n>', 'iterations a caught combination may take', int('catch-within', 1), 300)
  .option('--sweep-iterations <n>', 'then every clean combination under every sweep knob (batch capacity, allocator order, table batch allocation) for N iterations each (0: no sweep)', int('sweep-iterations', 0), 20)
  .option('--only <names>', 'only these shipped scenarios (comma-separated names)', (v: string) => {
    const names = v.split(',').map((x) => x.trim()).filter(Boolean);
    const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
    if (!names.length || unknown.length) throw new InvalidArgumentError(`unknown scenario ${unknown.join(', ') || "''"} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
    return names;
  })
  .action(async (o: { iterations: number; cpus: number; seed: number; catchWithin: number; sweepIterations: number; only?: string[] }) => {
    const t0 = performance.now();
    const scenarios = o.only ? SCENARIOS.filter((s) => o.only!.includes(s.name)) : SCENARIOS;
    const r = await runSoak({ ...o, scenarios, onLine: (l) => console.log(l) });
    const failed = r.rows.filter((x) => !x.ok);
    console.log(
      `\nsoak: ${r.cleanIterations} clean iterations over ${r.rows.filter((x) => x.expected === 'clean').length} combination runs (knob sweep included), ` +
        `${r.rows.filter((x) => x.expected === 'caught' && x.ok).length}/${r.rows.filter((x) => x.expected === 'caught').length} caught combinations caught, ` +
        `${((performance.now() - t0) / 1000).toFixed(0)} s: ${failed.length ? `FAILED (${failed.length})` : 'passed'}`,
    );
    process.exitCode = r.ok ? 0 : 1;
  });

program.parseAsync().catch((e: unknown) => {
  console.error(`soak: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 3;
});
