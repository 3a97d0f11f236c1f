import { type GatherStats, type KernelCommandResult, addStats, emptyStats, isHypothetical } from '../kernel/index.js';
import type { Machine } from '../machine/machine.js';
import { type CombinationReport, addCounters, describeViolation, emptyTotals } from './report.js';
import { type Combination, archLabel } from './scenario.js';
import type { IterationOutcome } from './runner.js';

/**
 * What one combination's iterations add up to, kept apart from the loop that
 * runs them (as fast-check keeps its RunExecution apart from the runner): the
 * runner, the soak and `bench policies` feed it outcomes and read one report.
 */
export class CombinationExecution {
  readonly totals = emptyTotals();
  kernel: GatherStats = emptyStats();
  /** Removing kernel operations run, and the host time of each (ms). */
  kernelOps = 0;
  readonly hostMs: number[] = [];
  iterations = 0;
  violations = 0;
  violatingIterations = 0;
  first: CombinationReport['firstViolation'] = null;
  firstIteration: number | null = null;
  timeToFirstMs: number | null = null;
  replay: string | null = null;
  private readonly t0 = performance.now();

  constructor(
    readonly combo: Combination,
    readonly cpus: number,
  ) {}

  /** Add iteration `it`; returns whether it was the first that violated (the caller then names its replay). */
  add(it: number, out: IterationOutcome, machine: Machine): boolean {
    this.iterations = it + 1;
    for (const co of out.kernels) {
      for (const r of [...co.setup, ...co.script] as KernelCommandResult[]) if (r.stats) this.kernel = addStats(this.kernel, r.stats);
      co.script.forEach((r, i) => {
        if (!r.stats) return;
        this.kernelOps++;
        this.hostMs.push(co.hostMs[i]);
      });
    }
    for (let cpu = 0; cpu < this.cpus; cpu++) addCounters(this.totals, machine.counters(cpu));
    const v = out.violations;
    if (v.total === 0) return false;
    this.violations += v.total;
    this.violatingIterations++;
    if (this.first !== null || !v.records.length) return false;
    this.first = describeViolation(v.records[0]);
    this.firstIteration = it;
    this.timeToFirstMs = this.elapsedMs();
    return true;
  }

  elapsedMs(): number {
    return performance.now() - this.t0;
  }

  report(): CombinationReport {
    const c = this.combo;
    const wallMs = this.elapsedMs();
    const outcome = this.violations > 0 ? 'caught' : 'clean';
    return {
      arch: c.arch,
      archOptions: { ...c.archOptions },
      archLabel: archLabel(c),
      hw: c.hw,
      hypothetical: isHypothetical(c.arch, c.hw),
      expected: c.expect,
      outcome,
      asExpected: c.expect === null ? null : c.expect === outcome,
      iterations: this.iterations,
      violations: this.violations,
      violatingIterations: this.violatingIterations,
      firstViolatingIteration: this.firstIteration,
      timeToFirstMs: this.timeToFirstMs,
      firstViolation: this.first,
      replay: this.replay,
      wallMs,
      iterationsPerSecond: this.iterations / (wallMs / 1000),
      machine: this.totals,
      kernel: this.kernel,
    };
  }
}
