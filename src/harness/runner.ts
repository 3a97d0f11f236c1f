import { type GatherStats, type KernelCommandResult, addStats, emptyStats, policyNames } from '../kernel/index.js';
import { type MachineConfig, resolveConfig } from '../machine/config.js';
import { FLAVOURS, flavourNames } from '../machine/flavours.js';
import { Machine } from '../machine/machine.js';
import type { CoordinatorResult } from './coordinator-role.js';
import { CpuPool } from './pool.js';
import { type CombinationReport, type RunReport, addCounters, describeViolation, emptyTotals } from './report.js';
import { type Combination, type Scenario, archLabel } from './scenario.js';
import type { CpuTask } from './worker-host.js';

export const VERSION = '0.1.0';

export interface RunOptions {
  scenario: Scenario;
  /** Only these policies (default: every combination the scenario declares). */
  arch?: string[];
  /** Only this hardware flavour. */
  hw?: string;
  cpus?: number;
  /** Iterations per combination (default: the scenario's, else 200). */
  iterations?: number;
  /** Or run each combination for this long (ms); with iterations, whichever ends first. */
  durationMs?: number;
  seed?: number;
  /** A warm pool to use (default: a pool made and closed by this call). */
  pool?: CpuPool;
  /** Called after every iteration. */
  onProgress?: (p: { combination: number; combinations: number; label: string; iteration: number; iterations: number; violations: number }) => void;
  /** Polled between iterations: true stops the run (report marked interrupted). */
  shouldStop?: () => boolean;
  /** stress (default): free-running threads; pct: deterministic PCT scheduling (see pct.ts). */
  mode?: 'stress' | 'pct';
  /** PCT depth: d - 1 priority change points (default 3). */
  depth?: number;
  /** Write the first failing iteration (or the last) as Chrome trace-event JSON here. */
  trace?: string;
}

/** The combinations a run covers: the scenario's, filtered; or an ad-hoc one. */
export function selectCombinations(s: Scenario, arch?: string[], hw?: string): (Combination | (Omit<Combination, 'expect'> & { expect: null }))[] {
  let combos: (Combination | (Omit<Combination, 'expect'> & { expect: null }))[] = s.combinations.filter(
    (c) => (!arch || arch.includes(c.arch) || arch.includes(archLabel(c))) && (!hw || c.hw === hw),
  );
  if (combos.length === 0 && arch && arch.length) {
    // Not declared by the scenario: run it anyway, with no expectation.
    const hws = hw ? [hw] : [...new Set(s.combinations.map((c) => c.hw))];
    combos = arch.flatMap((a) => hws.map((h) => ({ arch: a, hw: h, expect: null })));
  }
  for (const c of combos) {
    if (!policyNames().includes(c.arch)) throw new Error(`unknown architecture policy '${c.arch}' (known: ${policyNames().join(', ')})`);
    if (!FLAVOURS[c.hw]) throw new Error(`unknown hardware flavour '${c.hw}' (known: ${flavourNames().join(', ')})`);
  }
  return combos;
}

/** The seed of iteration `it` of a run seeded `seed`. */
export function iterationSeed(seed: number, it: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(it + 1, 0x165667b1)) >>> 0;
}

export function machineConfigFor(s: Scenario, hw: string, cpus: number): MachineConfig {
  return resolveConfig({ ...FLAVOURS[hw].config, ...s.machine, cpus });
}

/**
 * Run a scenario in stress mode: every CPU free-running in its own warm
 * worker thread, the machine reset in place between iterations.
 */
export async function runScenario(o: RunOptions): Promise<RunReport> {
  const s = o.scenario;
  const cpus = o.cpus ?? s.cpus ?? 4;
  const seed = o.seed ?? 1;
  const iterations = o.iterations ?? (o.durationMs ? Infinity : (s.iterations ?? 200));
  const combos = selectCombinations(s, o.arch, o.hw);
  const pool = o.pool ?? new CpuPool();
  const reports: CombinationReport[] = [];
  let interrupted = false;
  try {
    for (let ci = 0; ci < combos.length && !interrupted; ci++) {
      const c = combos[ci];
      const machine = Machine.create(machineConfigFor(s, c.hw, cpus));
      await pool.bind(machine);
      const workloads = Array.from({ length: cpus }, (_, i) => (i === 0 ? null : s.workload(i, cpus)));
      const label = `${archLabel(c)} / ${c.hw}`;
      const totals = emptyTotals();
      let kernel: GatherStats = emptyStats();
      let violations = 0;
      let violatingIterations = 0;
      let first: CombinationReport['firstViolation'] = null;
      let firstIt: number | null = null;
      let timeToFirst: number | null = null;
      const t0 = performance.now();
      let it = 0;
      for (; it < iterations; it++) {
        if (o.durationMs && performance.now() - t0 >= o.durationMs) break;
        if (o.shouldStop?.()) {
          interrupted = true;
          break;
        }
        const iseed = iterationSeed(seed, it);
        machine.reset(it, iseed);
        const tasks: CpuTask[] = [
          {
            role: 'coordinator',
            args: { arch: c.arch, archOptions: c.archOptions, batchCapacity: s.batchCapacity, setup: s.setup, script: s.script, parties: cpus },
          },
          ...workloads.slice(1).map((w) => ({ role: 'workload', args: { workload: w, seed: iseed }, barrier: cpus })),
        ];
        const results = await pool.run(tasks);
        const coord = results[0].result as CoordinatorResult;
        for (const r of [...coord.setup, ...coord.script] as KernelCommandResult[]) if (r.stats) kernel = addStats(kernel, r.stats);
        for (let cpu = 0; cpu < cpus; cpu++) addCounters(totals, machine.counters(cpu));
        const v = machine.violations();
        if (v.total > 0) {
          violations += v.total;
          violatingIterations++;
          if (first === null && v.records.length) {
            first = describeViolation(v.records[0]);
            firstIt = it;
            timeToFirst = performance.now() - t0;
          }
        }
        o.onProgress?.({ combination: ci, combinations: combos.length, label, iteration: it + 1, iterations, violations });
      }
      const wallMs = performance.now() - t0;
      const outcome = violations > 0 ? 'caught' : 'clean';
      reports.push({
        arch: c.arch,
        archOptions: { ...c.archOptions },
        archLabel: archLabel(c),
        hw: c.hw,
        expected: c.expect,
        outcome,
        asExpected: c.expect === null ? null : c.expect === outcome,
        iterations: it,
        violations,
        violatingIterations,
        firstViolatingIteration: firstIt,
        timeToFirstMs: timeToFirst,
        firstViolation: first,
        wallMs,
        iterationsPerSecond: it / (wallMs / 1000),
        machine: totals,
        kernel,
      });
    }
  } finally {
    if (!o.pool) await pool.close();
  }
  return {
    tool: 'smpsim',
    version: VERSION,
    scenario: s.name,
    title: s.title,
    mode: 'stress',
    seed,
    cpus,
    combinations: reports,
    ok: reports.every((r) => r.asExpected !== false),
    interrupted,
  };
}
