import { describeViolation, type ViolationReport } from './report.js';
import { type ReplaySpec, scheduleOf } from './replay-token.js';
import { checkCombinations } from './combinations.js';
import { preflight } from './preflight.js';
import { CpuPool } from './pool.js';
import { CombinationRunner, scriptWaits, workloadBudget } from './runner.js';
import { type Scenario, kernelCpuIds, machineConfigFor } from './scenario.js';

/**
 * Shrinking a failing controlled iteration (fast-check's idea, applied to a
 * schedule): look for a smaller schedule that still fails the same way, so
 * the story `smpsim replay` prints is short. "Smaller" is, in this order of
 * preference: a smaller workload step budget (fewer accesses, and every
 * later attempt runs faster), fewer CPUs (the scenario's kernel CPUs always
 * stay), fewer priority change points. A candidate is accepted only when it
 * is smaller in one of them and no larger in any, and its first violation
 * has the same kind and the same frame role (the frame kind the checker
 * recorded) as the original's: shrinking never grows a schedule and never
 * trades one bug for another.
 *
 * Every attempt is a controlled iteration, deterministic for its schedule,
 * and the candidates are tried in a fixed order, so the same failure
 * shrinks to the same result; the bounds (time, attempts) only cut the
 * search short, keeping the smallest failure found so far. A bound reached
 * is reported (`complete: false`): on a slower host a time bound may then
 * cut the search at a different point.
 */

/** What a shrink keeps: the violation kind and the role of the frame it hit. */
export interface ShrinkTarget {
  kind: string;
  frameKind: string;
}

export interface ShrinkOptions {
  pool?: CpuPool;
  /** Stop trying after this long (ms); default DEFAULT_SHRINK_MS. */
  timeMs?: number;
  /** Stop after this many attempts; default DEFAULT_SHRINK_RUNS (a bound independent of the host's speed). */
  maxRuns?: number;
  /** Polled between attempts: true ends the search (with the smallest failure found so far). */
  shouldStop?: () => boolean;
  /** The original's first violation, when known (a run report's): saves running the original once more. */
  known?: ViolationReport;
}

export const DEFAULT_SHRINK_MS = 5000;
export const DEFAULT_SHRINK_RUNS = 150;

/** The size of a schedule, as shrinking compares them. */
export interface ScheduleSize {
  cpus: number;
  changes: number;
  budget: number;
}

export interface ShrinkResult {
  /** The smallest failing schedule found (the original when nothing smaller failed). */
  spec: ReplaySpec;
  /** Its first violation. */
  violation: ViolationReport;
  before: ScheduleSize;
  after: ScheduleSize;
  /** Attempts run (the original's included when it had to be run). */
  runs: number;
  /** Whether every candidate was tried (false: a bound cut the search). */
  complete: boolean;
  ms: number;
}

export function sizeOf(spec: ReplaySpec, scenario: Scenario): ScheduleSize {
  return { cpus: spec.cpus, changes: scheduleOf(spec).changes.length, budget: spec.budget ?? workloadBudget(scenario) };
}

/** The spec with its schedule written out and its budget explicit: what every candidate derives from. */
function explicit(spec: ReplaySpec, scenario: Scenario): ReplaySpec {
  const { k: _k, ...rest } = spec;
  return { ...rest, schedule: scheduleOf(spec), budget: spec.budget ?? workloadBudget(scenario) };
}

/** Candidate budgets below `cur`, smallest first: the floor, then halving the distance back to cur. */
function budgetsBelow(cur: number, floor: number): number[] {
  const out: number[] = [];
  for (let d = cur - floor; d >= 1; d = Math.floor(d / 2)) out.push(cur - d);
  return [...new Set(out)].filter((b) => b >= floor && b < cur);
}

/** The fewest CPUs the scenario can run with: its kernel CPUs, and at least one more CPU to race with. */
function fewestCpus(scenario: Scenario): number {
  return Math.max(2, ...kernelCpuIds(scenario).map((c) => c + 1));
}

/** Every smaller neighbour of `s`, in the order they are tried. */
function* candidates(s: ReplaySpec, scenario: Scenario): Generator<ReplaySpec> {
  const sch = s.schedule!;
  const floor = Math.max(1, ...scriptWaits(scenario).map((n) => n + 1));
  for (const budget of budgetsBelow(s.budget!, floor)) yield { ...s, budget };
  for (let n = fewestCpus(scenario); n < s.cpus; n++) yield { ...s, cpus: n, schedule: { priorities: sch.priorities.slice(0, n), changes: sch.changes } };
  if (sch.changes.length > 1) yield { ...s, schedule: { ...sch, changes: [] } };
  for (let i = sch.changes.length - 1; i >= 0; i--) yield { ...s, schedule: { ...sch, changes: sch.changes.filter((_, j) => j !== i) } };
}

/**
 * Shrink the failing iteration `spec` of `scenario` (see the header).
 * Returns null when `spec` does not fail at all.
 */
export async function shrinkReplay(scenario: Scenario, spec: ReplaySpec, o: ShrinkOptions = {}): Promise<ShrinkResult | null> {
  const t0 = performance.now();
  const deadline = t0 + (o.timeMs ?? DEFAULT_SHRINK_MS);
  const maxRuns = o.maxRuns ?? DEFAULT_SHRINK_RUNS;
  const pool = o.pool ?? new CpuPool();
  let runs = 0;
  // One attempt: the first violation of the candidate's iteration, or null (clean, refused by the preflight, or failed to run).
  const attempt = async (c: ReplaySpec): Promise<ViolationReport | null> => {
    try {
      const [combo] = checkCombinations(scenario, [{ arch: c.arch, archOptions: c.archOptions, hw: c.hw, expect: null }]);
      machineConfigFor(scenario, combo, c.cpus);
      preflight(scenario, [combo], c.cpus);
    } catch {
      return null;
    }
    runs++;
    const abort = AbortSignal.timeout(Math.min(2 ** 31 - 1, Math.max(1, Math.ceil(deadline - performance.now()))));
    try {
      const runner = new CombinationRunner(scenario, c, c.cpus, pool, 'pct', c.budget);
      await runner.bind();
      const out = await runner.iteration(c.iteration, c.seed, { schedule: c.schedule, abort });
      const first = out.violations.records[0];
      return first ? describeViolation(first) : null;
    } catch {
      // A candidate that deadlocks, livelocks or is cut by the deadline (IterationAbandoned) is not a smaller failure.
      return null;
    }
  };
  const same = (v: ViolationReport | null, t: ShrinkTarget): v is ViolationReport => v !== null && v.kind === t.kind && v.frameKind === t.frameKind;
  try {
    let best = explicit(spec, scenario);
    let bestViolation = o.known ?? (await attempt(best));
    if (!bestViolation) return null;
    const target: ShrinkTarget = { kind: bestViolation.kind, frameKind: bestViolation.frameKind };
    let complete = true;
    const outOfBounds = (): boolean => runs >= maxRuns || performance.now() >= deadline || (o.shouldStop?.() ?? false);
    search: for (;;) {
      for (const c of candidates(best, scenario)) {
        if (outOfBounds()) {
          complete = false;
          break search;
        }
        const v = await attempt(c);
        if (same(v, target)) {
          best = c;
          bestViolation = v;
          // Restart from the smallest candidates of the new best (fast-check's shrink loop).
          continue search;
        }
      }
      break;
    }
    return { spec: best, violation: bestViolation, before: sizeOf(spec, scenario), after: sizeOf(best, scenario), runs, complete, ms: performance.now() - t0 };
  } finally {
    if (!o.pool) await pool.close();
  }
}
