import { availableParallelism } from 'node:os';
import { type ShootdownPoint, benchShootdown } from '../src/harness/bench/shootdown.js';
import type { CpuPool } from '../src/harness/pool.js';
import { runScenario } from '../src/harness/runner.js';
import type { Combination, Scenario } from '../src/harness/scenario.js';
import { findScenario } from '../scenarios/index.js';
import { median } from './stats.js';

/**
 * bench/oversubscription: what the host-core gate (src/machine/cores.ts)
 * buys when simulated CPUs outnumber host cores. Every figure is measured
 * with the gate and, in the same run and alternating with it, without it
 * (hostCores 0): the ratio is the gate's effect on this host as it is now.
 *
 *  - stress iterations/s of arm-delayed-free (arm-2.6.38 / armv7-mp, a clean
 *    combination) at 4 and 5 CPUs, beside 2 CPUs (no gate on 2 cores);
 *  - the README's first command (arm-delayed-free's matrix, 200 iterations
 *    at 4 CPUs), wall time;
 *  - shootdown latency p50 at 4 CPUs, IPI and broadcast;
 *  - the share of stress iterations that catch the broadcast gup_fast
 *    combinations at 2, 3, 5 and 9 CPUs.
 */
export interface OversubscriptionOptions {
  /** Iterations per rate measurement. */
  iterations: number;
  /** Alternating rounds (gated, ungated) per figure. */
  rounds: number;
  /** Stress iterations per gup_fast combination and CPU count. */
  catchIterations: number;
  /**
   * The gated 4-CPU shootdown points already measured in this run (the
   * short `bench shootdown` section): reported here beside the ungated ones
   * instead of measured again, so that the run prints one 4-CPU figure.
   */
  shootdown4?: readonly ShootdownPoint[];
}

/** How a 4-CPU shootdown point is measured, here and in run.ts's short `bench shootdown` section. */
export const SHOOTDOWN_4 = { cpus: [4], samples: 300, ops: 10, budgetMs: 400, minSamples: 20, minOps: 2 };

const SPREAD = (xs: number[]): string => (xs.length > 1 ? ` (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} over ${xs.length} rounds)` : '');

function one(s: Scenario, arch: string, hw: string): Scenario {
  const c = s.combinations.find((x) => x.arch === arch && x.hw === hw && !x.archOptions);
  if (!c) throw new Error(`${s.name} has no combination ${arch} / ${hw}`);
  return { ...s, combinations: [c] };
}

function scenario(name: string): Scenario {
  const s = findScenario(name);
  if (!s) throw new Error(`scenario ${name} is not registered`);
  return s;
}

export async function benchOversubscription(pool: CpuPool, o: OversubscriptionOptions): Promise<{ lines: string[]; ok: boolean }> {
  const lines: string[] = [];
  const cores = availableParallelism();
  let ok = true;
  const target = (name: string, value: number, cmp: '>=' | '<=', want: number, unit: string): void => {
    const met = cmp === '>=' ? value >= want : value <= want;
    ok &&= met;
    lines.push(`${name}: ${value.toFixed(value < 10 ? 2 : 0)} ${unit} (target ${cmp} ${want} ${unit}) ${met ? 'met' : 'NOT MET'}`);
  };
  lines.push(`host: ${cores} cores; gated: at most ${cores} CPU threads execute at once; ungated: the host's scheduler alone`);

  // Stress iterations per second.
  const adf = one(scenario('arm-delayed-free'), 'arm-2.6.38', 'armv7-mp');
  const rate = async (cpus: number, hostCores?: number): Promise<number> =>
    (await runScenario({ scenario: adf, cpus, iterations: o.iterations, hostCores, pool })).combinations[0].iterationsPerSecond;
  await rate(4, undefined); // warm-up (JIT, threads)
  const rates: Record<string, number[]> = {};
  const add = (k: string, v: number): void => void (rates[k] ??= []).push(v);
  for (let r = 0; r < o.rounds; r++) {
    add('2', await rate(2));
    for (const cpus of [4, 5]) {
      add(`${cpus} gated`, await rate(cpus));
      add(`${cpus} ungated`, await rate(cpus, 0));
    }
  }
  const m2 = median(rates['2']);
  lines.push(`arm-delayed-free arm-2.6.38 / armv7-mp, stress: 2 CPUs ${m2.toFixed(0)} iterations/s${SPREAD(rates['2'])}`);
  for (const cpus of [4, 5]) {
    const g = median(rates[`${cpus} gated`]);
    const u = median(rates[`${cpus} ungated`]);
    lines.push(
      `  ${cpus} CPUs: gated ${g.toFixed(0)}/s${SPREAD(rates[`${cpus} gated`])}, ungated ${u.toFixed(0)}/s${SPREAD(rates[`${cpus} ungated`])}: gated/ungated ${(g / u).toFixed(1)}x, gated/2 CPUs ${(g / m2).toFixed(2)}`,
    );
    target(`  stress iterations/s at ${cpus} CPUs, gated`, g, '>=', cpus === 4 ? 700 : 300, 'iterations/s');
  }

  // The README's first command: the whole matrix, 200 iterations each at 4 CPUs.
  const matrix = scenario('arm-delayed-free');
  const t0 = performance.now();
  const rep = await runScenario({ scenario: matrix, cpus: 4, iterations: 200, pool });
  const wall = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  await runScenario({ scenario: matrix, cpus: 4, iterations: 20, hostCores: 0, pool });
  const ungatedWall = ((performance.now() - t1) / 1000) * 10;
  lines.push(
    `README first command (arm-delayed-free, ${rep.combinations.length} combinations × 200 iterations, 4 CPUs): gated ${wall.toFixed(1)} s (${rep.ok ? 'all as expected' : 'NOT as expected'}); ungated, from a tenth of it, about ${ungatedWall.toFixed(0)} s`,
  );
  ok &&= rep.ok;
  target('  README first command, gated', wall, '<=', 4, 's');

  // Shootdown latency at 4 CPUs.
  const sd = async (hostCores?: number) => (await benchShootdown(pool, { ...SHOOTDOWN_4, hostCores })).points;
  const g = o.shootdown4?.length ? o.shootdown4 : await sd();
  const u = await sd(0);
  for (const p of g) {
    const q = u.find((x) => x.flavour === p.flavour)!;
    lines.push(`shootdown p50 at 4 CPUs, ${p.flavour}: gated ${(p.latency.p50Ns / 1000).toFixed(1)} µs, ungated ${(q.latency.p50Ns / 1000).toFixed(1)} µs`);
    target(`  shootdown p50, 4 CPUs, ${p.flavour}, gated`, p.latency.p50Ns / 1000, '<=', 100, 'µs');
  }

  // Broadcast gup_fast: share of stress iterations that catch it.
  const caught: { s: Scenario; c: Combination }[] = [];
  for (const name of ['gup-fast-vs-table-free', 'invlpgb-gup-fast', 'khugepaged-vs-gup-fast']) {
    const s = scenario(name);
    for (const c of s.combinations) if (c.expect === 'caught' && ['armv7-mp', 'arm64', 'x86-invlpgb'].includes(c.hw)) caught.push({ s, c });
  }
  for (const cpus of [2, 3, 5, 9]) {
    const shares: number[] = [];
    for (const { s, c } of caught) {
      const r = await runScenario({ scenario: { ...s, combinations: [c] }, cpus, iterations: o.catchIterations, pool });
      const cr = r.combinations[0];
      shares.push(cr.violatingIterations / cr.iterations);
    }
    const least = Math.min(...shares);
    lines.push(`broadcast gup_fast, ${cpus} CPUs, ${caught.length} caught combinations: share of stress iterations caught ${shares.map((x) => `${(x * 100).toFixed(0)}%`).join(' ')}`);
    target(`  least share at ${cpus} CPUs`, least * 100, '>=', 50, '%');
  }
  return { lines, ok };
}
