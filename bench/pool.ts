import armDelayedFree from '../scenarios/arm-delayed-free.js';
import { CpuPool } from '../src/harness/pool.js';
import { CombinationRunner, iterationSeed, runScenario } from '../src/harness/runner.js';
import { verdict } from './stats.js';

const COMBO = { arch: 'arm-2.6.38', hw: 'arm11mpcore' };

/**
 * bench/pool: iterations per second of arm-delayed-free (2 CPUs, arm-2.6.38)
 * on the warm pool, beside the same iterations each starting fresh worker
 * threads, in one run; and gate steps per second in pct mode.
 */
export async function benchPool(pool: CpuPool, warmIterations: number, coldIterations: number): Promise<{ lines: string[]; ok: boolean }> {
  const lines: string[] = [];
  const scenario = { ...armDelayedFree, combinations: [{ ...COMBO, expect: 'clean' as const }] };
  // Warm: one pool, the machine reset in place between iterations.
  await runScenario({ scenario, cpus: 2, iterations: 20, pool }); // warm-up (JIT)
  const warm = await runScenario({ scenario, cpus: 2, iterations: warmIterations, pool });
  const warmRate = warm.combinations[0].iterationsPerSecond;
  // Cold: a new pool (new threads) for every iteration.
  const t0 = performance.now();
  for (let it = 0; it < coldIterations; it++) {
    const fresh = new CpuPool();
    try {
      const r = new CombinationRunner(scenario, COMBO, 2, fresh, 'stress');
      await r.bind();
      await r.iteration(it, iterationSeed(1, it));
    } finally {
      await fresh.close();
    }
  }
  const coldRate = coldIterations / ((performance.now() - t0) / 1000);
  lines.push(`arm-delayed-free, 2 CPUs, arm-2.6.38: warm pool ${warmRate.toFixed(0)} iterations/s; fresh threads per iteration ${coldRate.toFixed(1)} iterations/s`);
  const ratioOk = warmRate / coldRate >= 20;
  const rateOk = warmRate >= 200;
  lines.push(verdict('warm / cold iterations per second', warmRate / coldRate, '>= 20', ratioOk));
  lines.push(`warm pool: ${warmRate.toFixed(0)} iterations/s (target >= 200) ${rateOk ? 'met' : 'NOT MET'}`);
  // Controlled mode: gate steps per second (3 CPUs).
  const r = new CombinationRunner(scenario, COMBO, 3, pool, 'pct');
  await r.bind();
  let steps = 0;
  const t1 = performance.now();
  let k: number | undefined;
  for (let it = 0; it < 10; it++) {
    const out = await r.iteration(it, iterationSeed(1, it), { depth: 3, k });
    k ??= out.gateSteps;
    steps += out.gateSteps;
  }
  lines.push(`pct mode, 3 CPUs: ${((steps / (performance.now() - t1)) * 1000).toFixed(0)} gate steps/s (each step a hand-off between threads)`);
  return { lines, ok: ratioOk && rateOk };
}
