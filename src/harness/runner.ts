import { type GatherStats, type KernelCommandResult, addStats, canonicalPolicyName, emptyStats, isHypothetical, policyNames } from '../kernel/index.js';
import { FLAVOURS, flavourNames } from '../machine/flavours.js';
import { Gate } from '../machine/gate.js';
import { G } from '../machine/layout.js';
import { Machine } from '../machine/machine.js';
import type { Violation } from '../machine/checker.js';
import type { Workload } from '../machine/workload.js';
import type { CoordinatorResult } from './coordinator-role.js';
import { pctSchedule } from './pct.js';
import { CpuPool } from './pool.js';
import { encodeReplay, type ReplaySpec } from './replay-token.js';
import { type CombinationReport, type RunReport, addCounters, describeViolation, emptyTotals } from './report.js';
import { type Combination, type Scenario, archLabel, machineConfigFor } from './scenario.js';
import { checkWritable, preflight } from './preflight.js';
import { parseScenario } from './scenario-schema.js';

export { machineConfigFor };
import { writeTrace } from './trace.js';
import type { CpuTask } from './worker-host.js';

export const VERSION = '0.1.0';

export interface RunOptions {
  scenario: Scenario;
  /** How `smpsim replay` finds the scenario again: a registered name or a file path (default: scenario.name). */
  scenarioRef?: string;
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
  /** stress (default): free-running threads; pct: deterministic PCT scheduling. */
  mode?: 'stress' | 'pct';
  /** PCT depth: d - 1 priority change points (default 3). */
  depth?: number;
  /** Write the first failing iteration (or the last) as Chrome trace-event JSON here. */
  trace?: string;
  /** Stop a combination at its first violating iteration. */
  stopAtFirst?: boolean;
  /** Watchdog: an IPI not acknowledged within this many ms ends the run (default: the machine's, 2 s). */
  ipiTimeoutMs?: number;
}


/** The combinations a run covers: the scenario's, filtered; or an ad-hoc one. */
export function selectCombinations(s: Scenario, arch?: string[], hw?: string): Combination[] {
  let combos: Combination[] = s.combinations.filter((c) => (!arch || arch.includes(c.arch) || arch.includes(archLabel(c))) && (!hw || c.hw === hw));
  if (combos.length === 0 && arch && arch.length) {
    // Not declared by the scenario: run it anyway, with no expectation.
    const hws = hw ? [hw] : [...new Set(s.combinations.map((c) => c.hw))];
    combos = arch.flatMap((a) => hws.map((h) => ({ arch: a, hw: h, expect: null })));
  }
  // Old policy names (POLICY_ALIASES) run, and report, under the new one.
  combos = combos.map((c) => ({ ...c, arch: canonicalPolicyName(c.arch) }));
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


/** Steps each workload CPU runs in a controlled iteration before it idles (taking IPIs) until the stop. */
export const PCT_WORKLOAD_STEPS = 1000;

/** What one iteration left behind. */
export interface IterationOutcome {
  violations: { records: Violation[]; total: number; overflow: number };
  coordinator: CoordinatorResult;
  /** Steps taken under the gate (pct), else 0. */
  gateSteps: number;
  /** Recorded events per CPU, when recorded. */
  events?: number[][];
}

/**
 * One combination of a scenario on one machine, bound to warm threads:
 * runs iterations, in stress or controlled mode, resetting the machine in
 * place between them.
 */
export class CombinationRunner {
  readonly machine: Machine;
  private readonly workloads: Workload[];

  constructor(
    readonly scenario: Scenario,
    readonly combo: { arch: string; archOptions?: Combination['archOptions']; hw: string },
    readonly cpus: number,
    readonly pool: CpuPool,
    readonly mode: 'stress' | 'pct',
  ) {
    this.machine = Machine.create(machineConfigFor(scenario, combo, cpus));
    // Controlled runs need finite workloads (a CPU that never blocks would
    // never yield), long enough for every waitSteps of the script.
    const waits = [...scenario.setup, ...scenario.script].map((c) => (c.op === 'waitSteps' ? c.steps : 0));
    const budget = Math.max(PCT_WORKLOAD_STEPS, ...waits.map((n) => n + 100));
    this.workloads = Array.from({ length: cpus }, (_, i) => {
      if (i === 0) return null as unknown as Workload;
      const w = scenario.workload(i, cpus);
      return mode === 'pct' && w.steps === undefined ? { ...w, steps: budget } : w;
    });
  }

  async bind(): Promise<void> {
    await this.pool.bind(this.machine);
  }

  /**
   * Run iteration `it` seeded `iseed`. In pct mode, `schedule` gives the
   * depth and the step estimate k (k undefined: no change points, and the
   * steps taken are returned as gateSteps for calibrating k).
   */
  async iteration(it: number, iseed: number, opts: { record?: boolean; depth?: number; k?: number } = {}): Promise<IterationOutcome> {
    const { machine, cpus, scenario: s, combo: c } = this;
    machine.reset(it, iseed);
    const pct = this.mode === 'pct';
    if (pct) {
      const sched = opts.k === undefined ? { priorities: pctSchedule(iseed, cpus, opts.depth ?? 3, 1).priorities, changes: [] } : pctSchedule(iseed, cpus, opts.depth ?? 3, opts.k);
      Gate.arm(machine.i32, machine.layout, sched.priorities, sched.changes);
    }
    const record: CpuTask['record'] = opts.record ? (pct ? 'steps' : 'wall') : undefined;
    const tasks: CpuTask[] = [
      {
        role: 'coordinator',
        args: { arch: c.arch, archOptions: c.archOptions, batchCapacity: s.batchCapacity, setup: s.setup, script: s.script, parties: cpus },
        record,
      },
      ...this.workloads.slice(1).map((w) => ({ role: 'workload', args: { workload: w, seed: iseed }, barrier: cpus, record })),
    ];
    const results = await this.pool.run(tasks);
    return {
      violations: machine.violations(),
      coordinator: results[0].result as CoordinatorResult,
      gateSteps: pct ? Atomics.load(machine.i32, machine.layout.gateWord(G.STEP)) : 0,
      events: record ? results.map((r) => r.events ?? []) : undefined,
    };
  }
}

/**
 * Run a scenario: in stress mode every CPU free-running in its own warm
 * worker thread; in pct mode the same threads taking turns under a seeded
 * PCT schedule, so that every violation can be replayed exactly.
 */
export async function runScenario(o: RunOptions): Promise<RunReport> {
  const s = o.scenario;
  const cpus = o.cpus ?? s.cpus ?? 4;
  const seed = o.seed ?? 1;
  const mode = o.mode ?? 'stress';
  const depth = o.depth ?? 3;
  const iterations = o.iterations ?? (o.durationMs ? Infinity : (s.iterations ?? 200));
  parseScenario(s, s.name);
  const combos = selectCombinations(s, o.arch, o.hw);
  preflight(s, combos, cpus);
  if (o.trace) checkWritable(o.trace);
  const pool = o.pool ?? new CpuPool();
  const reports: CombinationReport[] = [];
  let interrupted = false;
  let traced: { events: number[][]; label: string } | null = null;
  try {
    for (let ci = 0; ci < combos.length && !interrupted; ci++) {
      const c = combos[ci];
      const runner = new CombinationRunner(o.ipiTimeoutMs ? { ...s, machine: { ...s.machine, ipiTimeoutMs: o.ipiTimeoutMs } } : s, c, cpus, pool, mode);
      await runner.bind();
      const label = `${archLabel(c)} / ${c.hw}`;
      const totals = emptyTotals();
      let kernel: GatherStats = emptyStats();
      let violations = 0;
      let violatingIterations = 0;
      let first: CombinationReport['firstViolation'] = null;
      let firstIt: number | null = null;
      let timeToFirst: number | null = null;
      let replay: string | null = null;
      let k: number | undefined;
      let lastEvents: number[][] | undefined;
      const t0 = performance.now();
      let it = 0;
      for (; it < iterations; it++) {
        if (o.durationMs && performance.now() - t0 >= o.durationMs) break;
        if (o.shouldStop?.()) {
          interrupted = true;
          break;
        }
        const iseed = iterationSeed(seed, it);
        // Stress runs cannot be replayed: with --trace every iteration records.
        const out = await runner.iteration(it, iseed, { record: Boolean(o.trace) && mode === 'stress' && traced === null, depth, k });
        if (mode === 'pct' && k === undefined) k = Math.max(1, out.gateSteps);
        for (const r of [...out.coordinator.setup, ...out.coordinator.script] as KernelCommandResult[]) if (r.stats) kernel = addStats(kernel, r.stats);
        for (let cpu = 0; cpu < cpus; cpu++) addCounters(totals, runner.machine.counters(cpu));
        lastEvents = out.events;
        const v = out.violations;
        o.onProgress?.({ combination: ci, combinations: combos.length, label, iteration: it + 1, iterations, violations: violations + v.total });
        if (v.total === 0) continue;
        violations += v.total;
        violatingIterations++;
        if (first === null && v.records.length) {
          first = describeViolation(v.records[0]);
          firstIt = it;
          timeToFirst = performance.now() - t0;
          if (mode === 'pct') {
            const spec: ReplaySpec = { scenario: o.scenarioRef ?? s.name, arch: c.arch, archOptions: c.archOptions, hw: c.hw, cpus, iteration: it, seed: iseed, depth, k: it === 0 ? undefined : k };
            replay = encodeReplay(spec);
          }
          if (o.trace && traced === null) {
            traced = { events: mode === 'pct' ? (await runner.iteration(it, iseed, { record: true, depth, k: it === 0 ? undefined : k })).events! : out.events!, label };
          }
        }
        if (o.stopAtFirst) {
          it++;
          break;
        }
      }
      if (o.trace && traced === null && ci === combos.length - 1 && it > 0) {
        // No violation anywhere: trace the last iteration.
        const last = it - 1;
        traced = { events: mode === 'pct' ? (await runner.iteration(last, iterationSeed(seed, last), { record: true, depth, k: last === 0 ? undefined : k })).events! : lastEvents!, label };
      }
      const wallMs = performance.now() - t0;
      const outcome = violations > 0 ? 'caught' : 'clean';
      reports.push({
        arch: c.arch,
        archOptions: { ...c.archOptions },
        archLabel: archLabel(c),
        hw: c.hw,
        hypothetical: isHypothetical(c.arch, c.hw),
        expected: c.expect,
        outcome,
        asExpected: c.expect === null ? null : c.expect === outcome,
        iterations: it,
        violations,
        violatingIterations,
        firstViolatingIteration: firstIt,
        timeToFirstMs: timeToFirst,
        firstViolation: first,
        replay,
        wallMs,
        iterationsPerSecond: it / (wallMs / 1000),
        machine: totals,
        kernel,
      });
    }
    if (o.trace && traced) writeTrace(o.trace, traced.events, { scenario: s.name, label: traced.label, mode });
  } finally {
    if (!o.pool) await pool.close();
  }
  return {
    tool: 'smpsim',
    version: VERSION,
    scenario: s.name,
    title: s.title,
    mode,
    seed,
    cpus,
    combinations: reports,
    ok: reports.every((r) => r.asExpected !== false),
    interrupted,
  };
}
