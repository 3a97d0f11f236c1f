import { type GatherStats, type KernelCommandResult, addStats, emptyStats, isHypothetical } from '../kernel/index.js';
import { type CombinationReport, type KindReport, addCounters, describeViolation, emptyTotals } from './report.js';
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
  /** Kinds in the order first seen (iterations are added in ascending order, so the first seen is the earliest). */
  readonly kinds: KindReport[] = [];
  private readonly t0 = performance.now();

  constructor(
    readonly combo: Combination,
    readonly cpus: number,
  ) {}

  /**
   * Add iteration `it` (iterations come in ascending order; a shard's skip
   * the others). `replay` names the token of this iteration (pct); it is
   * asked for only when the iteration is the first that violated, or the
   * first of some kind. Returns whether it was the first that violated.
   */
  add(it: number, out: IterationOutcome, replay?: () => string): boolean {
    this.iterations++;
    for (const co of out.kernels) {
      for (const r of [...co.setup, ...co.script] as KernelCommandResult[]) if (r.stats) this.kernel = addStats(this.kernel, r.stats);
      co.script.forEach((r, i) => {
        if (!r.stats) return;
        this.kernelOps++;
        this.hostMs.push(co.hostMs[i]);
      });
    }
    for (const c of out.counters) addCounters(this.totals, c);
    const v = out.violations;
    if (v.total === 0) return false;
    this.violations += v.total;
    this.violatingIterations++;
    let token: string | null | undefined;
    const tokenNow = (): string | null => (token ??= replay ? replay() : null);
    this.addKinds(it, v.records, tokenNow);
    if (this.first !== null || !v.records.length) return false;
    this.first = describeViolation(v.records[0]);
    this.firstIteration = it;
    this.timeToFirstMs = this.elapsedMs();
    this.replay = tokenNow();
    return true;
  }

  /** Count each kind iteration `it` logged once; a kind not seen before starts its entry here. */
  private addKinds(it: number, records: IterationOutcome['violations']['records'], token: () => string | null): void {
    const seen = new Set<number>();
    for (const r of records) {
      if (seen.has(r.kind)) continue;
      seen.add(r.kind);
      const v = describeViolation(r);
      const known = this.kinds.find((k) => k.kind === v.kind);
      if (known) known.iterations++;
      else this.kinds.push({ kind: v.kind, iterations: 1, firstIteration: it, firstViolation: v, replay: token() });
    }
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
      kinds: this.kinds.map((k) => ({ ...k })),
      wallMs,
      iterationsPerSecond: this.iterations / (wallMs / 1000),
      machine: this.totals,
      kernel: this.kernel,
    };
  }
}
