import { isAbsolute, relative, sep } from 'node:path';
import { coreTokens, hostCores as hostCoresNow } from '../machine/cores.js';
import { Gate } from '../machine/gate.js';
import { G } from '../machine/layout.js';
import { Machine } from '../machine/machine.js';
import type { Violation } from '../machine/checker.js';
import type { CpuCounters } from '../machine/machine.js';
import type { Workload } from '../machine/workload.js';
import type { KernelRoleArgs, KernelRoleResult } from './thread/kernel-role.js';
import { PctCalibration, type PctSchedule } from './pct.js';
import { checkCombinations, selectCombinations } from './combinations.js';
import { CombinationExecution } from './run-execution.js';
import { CpuPool, IterationAbandoned } from './pool.js';
import { type ReplaySpec, encodeReplay, scheduleOf, TOKEN_SHA_DIGITS } from './replay-token.js';
import type { CombinationReport, RunReport } from './report.js';
import { type Combination, type Scenario, archLabel, kernelCpuIds, machineConfigFor, runsWorkload } from './scenario.js';
import { checkOutputFile, outputTarget } from './output-file.js';
import { preflight } from './preflight.js';
import { BatchSizer } from './batch-size.js';
import { provenance } from './provenance.js';
import { ScenarioError, parseScenario } from './scenario-schema.js';
import { type Shard, checkShard, shardIterations } from './shard.js';
import { writeTrace } from './trace.js';
import type { CpuBatch, CpuBatchResult, CpuTask, CpuTaskResult } from './thread/worker-host.js';
import { prepareIteration } from './thread/batch.js';

export { machineConfigFor };

export { VERSION } from '../version.js';
import { VERSION } from '../version.js';

export interface RunOptions {
  scenario: Scenario;
  /** How `smpsim replay` finds the scenario again: a registered name or a file path (default: scenario.name). */
  scenarioRef?: string;
  /** The scenario's file and the sha256 of its bytes, for the report (merge refuses shards of different files). */
  scenarioFile?: { path: string; sha256: string };
  /**
   * Exactly these combinations (each with its expectation, or null), e.g. one
   * combination of a scenario, or one it does not declare. Default: the
   * scenario's, selected by `arch` and `hw` (see selectCombinations).
   */
  combinations?: readonly Combination[];
  /** Only these policies (by name). */
  arch?: string[];
  /** Only this hardware flavour. */
  hw?: string;
  cpus?: number;
  /**
   * Host cores the CPU threads of a stress run may use at once (default:
   * this host's: SMPSIM_HOST_CORES, else os.availableParallelism()). With more CPU threads than that,
   * the host-core gate of machine/cores.ts schedules them; 0 turns it off.
   */
  hostCores?: number;
  /** Iterations per combination (default: the scenario's, else 200). */
  iterations?: number;
  /** Or run each combination for this long (ms); with iterations, whichever ends first. */
  durationMs?: number;
  seed?: number;
  /** A warm pool to use (default: a pool made and closed by this call). */
  pool?: CpuPool;
  /**
   * Called after every iteration: `iteration` iterations of `iterations`
   * done (a shard's own), the last one's index and seed.
   */
  onProgress?: (p: { combination: number; combinations: number; label: string; iteration: number; iterations: number; violations: number; index: number; seed: number }) => void;
  /** Polled between iterations: true stops the run (report marked interrupted). */
  shouldStop?: () => boolean;
  /**
   * Fired: the iteration in progress is abandoned at once (its threads leave,
   * or are replaced: CpuPool.run) and counted neither clean nor caught; the
   * report holds the iterations before it and is marked interrupted.
   */
  abort?: AbortSignal;
  /** stress (default): free-running threads; pct: deterministic PCT scheduling. */
  mode?: 'stress' | 'pct';
  /** PCT depth: d - 1 priority change points (default 3). */
  depth?: number;
  /** Write the first failing iteration (or the last) as Chrome trace-event JSON here (docs/trace.md). */
  trace?: string;
  /** Called once the trace is written, with what it holds (not called when no iteration finished). */
  onTrace?: (t: TraceWritten) => void;
  /** Stop a combination at its first violating iteration (not with `shard`: a shard cannot know where another stopped). */
  stopAtFirst?: boolean;
  /** Run only this shard's iterations (src/harness/shard.ts: iteration i belongs to shard (i mod n) + 1). */
  shard?: Shard;
  /** Watchdog: an IPI not acknowledged within this many ms ends the run (default: the machine's, 2 s). */
  ipiTimeoutMs?: number;
  /** The command line the report's provenance records (default: this process's arguments). */
  argv?: readonly string[];
}


/** What a run wrote to its `trace` file. */
export interface TraceWritten {
  /** The file written (a symbolic link's target). */
  file: string;
  /** The combination, "arch / hw", the iteration traced and its seed. */
  label: string;
  iteration: number;
  seed: number;
  /** The iteration is the run's first violating one (else the last iteration of the last combination). */
  violating: boolean;
}

/** The seed of iteration `it` of a run seeded `seed`. */
export function iterationSeed(seed: number, it: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(it + 1, 0x165667b1)) >>> 0;
}


/** How often a batch of stress iterations looks at RunOptions.shouldStop (ms). */
export const STOP_POLL_MS = 10;

/** Steps each workload CPU runs in a controlled iteration before it idles (taking IPIs) until the stop. */
export const PCT_WORKLOAD_STEPS = 1000;

/**
 * Steps each workload CPU runs in a controlled iteration unless told: at
 * least PCT_WORKLOAD_STEPS, and enough for every waitSteps of the scripts
 * (a kernel CPU waiting for more steps than the workloads take would wait
 * for ever).
 */
export function workloadBudget(scenario: Scenario): number {
  return Math.max(PCT_WORKLOAD_STEPS, ...scriptWaits(scenario).map((n) => n + 100));
}

/** The step counts the scenario's scripts wait for (waitSteps). */
export function scriptWaits(scenario: Scenario): number[] {
  const scripts = [scenario.setup, scenario.script, ...(scenario.kernelCpus ?? []).map((k) => k.script)].flat();
  return scripts.map((c) => (c.op === 'waitSteps' ? c.steps : 0));
}

/**
 * How a token names the scenario: a registered one by its name; a file by
 * its path relative to the working directory (so the token travels with a
 * checkout) and a sha256 prefix of its bytes (so an edited file is refused).
 */
export function tokenScenario(ref: string, file?: { path: string; sha256: string }): Pick<ReplaySpec, 'scenario' | 'scenarioSha256'> {
  if (!file) return { scenario: ref };
  const rel = relative(process.cwd(), file.path).split(sep).join('/');
  // Another drive (Windows) has no relative path: the absolute one is the best there is.
  const path = isAbsolute(rel) ? file.path : rel.startsWith('.') ? rel : `./${rel}`;
  return { scenario: path, scenarioSha256: file.sha256.slice(0, TOKEN_SHA_DIGITS) };
}

/** What one iteration left behind. */
export interface IterationOutcome {
  violations: { records: Violation[]; total: number; overflow: number };
  /** Each CPU's counters at the iteration's end. */
  counters: CpuCounters[];
  /** What each kernel CPU's script did (CPU 0 first). */
  kernels: KernelRoleResult[];
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
  /** Per CPU: its workload, or null for a kernel CPU that runs none. */
  private readonly workloads: (Workload | null)[];
  /** Host cores a stress iteration's CPU threads share (0: as many as they need, no gate). */
  readonly coreTokens: number;

  constructor(
    readonly scenario: Scenario,
    readonly combo: { arch: string; archOptions?: Combination['archOptions']; hw: string },
    readonly cpus: number,
    readonly pool: CpuPool,
    readonly mode: 'stress' | 'pct',
    /** Steps each workload CPU runs in a controlled iteration (default: workloadBudget(scenario)); a shrunk replay gives fewer. */
    budget?: number,
    /** Host cores the CPU threads may use at once (default: this host's; see machine/cores.ts). */
    hostCores: number = hostCoresNow(),
  ) {
    this.machine = Machine.create(machineConfigFor(scenario, combo, cpus));
    this.coreTokens = coreTokens(cpus, hostCores);
    // Controlled runs need finite workloads (a CPU that never blocks would
    // never yield), long enough for every waitSteps of the script.
    const steps = budget ?? workloadBudget(scenario);
    this.workloads = Array.from({ length: cpus }, (_, i) => {
      if (!runsWorkload(scenario, i)) return null;
      const w = scenario.workload(i, cpus);
      return mode === 'pct' && (w.steps === undefined || budget !== undefined) ? { ...w, steps: Math.min(steps, w.steps ?? Infinity) } : w;
    });
  }

  async bind(): Promise<void> {
    await this.pool.bind(this.machine);
  }

  /**
   * Run iteration `it` seeded `iseed`. In pct mode, `schedule` gives the
   * depth and the step estimate k (k undefined: no change points, and the
   * steps taken are returned as gateSteps for calibrating k), or `schedule`
   * gives the gate's priorities and change points outright (a token's).
   */
  async iteration(it: number, iseed: number, opts: { record?: boolean; depth?: number; k?: number; schedule?: PctSchedule; abort?: AbortSignal } = {}): Promise<IterationOutcome> {
    const { machine, cpus } = this;
    const pct = this.mode === 'pct';
    // Stress: at most as many CPU threads execute at once as the host has cores (machine/cores.ts).
    prepareIteration(machine, it, iseed, pct ? 0 : this.coreTokens);
    if (pct) {
      const sched = opts.schedule ?? scheduleOf({ seed: iseed, cpus, depth: opts.depth ?? 3, k: opts.k });
      Gate.arm(machine.i32, machine.layout, sched.priorities, sched.changes);
    }
    const record: CpuTask['record'] = opts.record ? (pct ? 'steps' : 'wall') : undefined;
    const results = await this.pool.run(this.tasks(iseed, record), opts.abort);
    return {
      violations: machine.violations(),
      counters: Array.from({ length: cpus }, (_, c) => machine.counters(c)),
      kernels: this.kernelResults(results),
      gateSteps: pct ? Atomics.load(machine.i32, machine.layout.gateWord(G.STEP)) : 0,
      events: record ? results.map((r) => r.events ?? []) : undefined,
    };
  }

  /**
   * Run the stress iterations `list` (ascending) as one batch: the CPU
   * threads go from one to the next by themselves (thread/batch.ts), and the
   * outcomes come back together. With `stopAtFirst` the batch ends after the
   * first violating iteration, and once `shouldStop()` (polled every
   * STOP_POLL_MS) after the iteration in progress. Abandoned (`abort`): the
   * outcomes of the iterations completed before, and `abandoned` set.
   */
  async batch(
    list: readonly { it: number; seed: number }[],
    opts: { stopAtFirst?: boolean; abort?: AbortSignal; shouldStop?: () => boolean } = {},
  ): Promise<{ outcomes: IterationOutcome[]; abandoned: boolean; steadyMsPerIteration?: number }> {
    if (this.mode !== 'stress') throw new Error('only stress iterations run in batches');
    const { machine, cpus } = this;
    prepareIteration(machine, list[0].it, list[0].seed, this.coreTokens);
    const perIteration = list.map((l) => this.tasks(l.seed, undefined));
    const batches: CpuBatch[] = Array.from({ length: cpus }, (_, c) => ({ tasks: perIteration.map((t) => t[c]) }));
    Object.assign(batches[0], { iterations: list, coreTokens: this.coreTokens, stopAtFirst: opts.stopAtFirst === true });
    // A stop request (Ctrl-C) ends the batch after the iteration in progress, as between single iterations.
    const shouldStop = opts.shouldStop;
    const watch = shouldStop ? setInterval(() => shouldStop() && this.pool.stopBatch(), STOP_POLL_MS) : undefined;
    let got: CpuBatchResult[];
    try {
      got = await this.pool.runBatch(batches, opts.abort);
    } finally {
      clearInterval(watch);
    }
    // The leader's snapshots count the iterations every thread completed.
    const outcomes = got[0].snapshots.map((snap, j): IterationOutcome => ({
      violations: snap.violations,
      counters: snap.counters,
      kernels: this.kernelResults(got.map((g) => g.results[j])),
      gateSteps: 0,
    }));
    // What an iteration costs once the batch runs, without the batch's own start
    // (a message to every thread, each woken in its event loop): from the
    // first iteration's end to the last's, in the leader's thread.
    const snaps = got[0].snapshots;
    const steadyMsPerIteration = snaps.length >= 2 ? (snaps[snaps.length - 1].at - snaps[0].at) / (snaps.length - 1) : undefined;
    return { outcomes, abandoned: got.some((g) => g.abandoned), steadyMsPerIteration };
  }

  /** What each kernel CPU's script did, CPU 0 first, from one iteration's results. */
  private kernelResults(results: readonly CpuTaskResult[]): KernelRoleResult[] {
    const kernelCpus = kernelCpuIds(this.scenario);
    return results.filter((r, i) => kernelCpus.includes(i)).map((r) => r.result as KernelRoleResult);
  }

  /** Each CPU's task in an iteration seeded `iseed`. */
  private tasks(iseed: number, record: CpuTask['record']): CpuTask[] {
    const { cpus, scenario: s, combo: c } = this;
    const kernelCpus = kernelCpuIds(s);
    // What waitSteps waits for: the CPUs that run only a workload (a kernel CPU's steps count only after its script).
    const workloadCpus = this.workloads.flatMap((w, i) => (w && !kernelCpus.includes(i) ? [i] : []));
    const kernelArgs = (script: Scenario['script'], setup: Scenario['setup'], then: Workload | null): KernelRoleArgs => ({
      arch: c.arch,
      archOptions: c.archOptions,
      batchCapacity: s.batchCapacity,
      tableBatchAlloc: s.tableBatchAlloc,
      setup,
      script,
      parties: cpus,
      kernelCpus,
      workloadCpus,
      then: then ? { workload: then, seed: iseed } : undefined,
    });
    return Array.from({ length: cpus }, (_, i): CpuTask => {
      if (i === 0) return { role: 'kernel', args: kernelArgs(s.script, s.setup, null), record };
      const k = s.kernelCpus?.find((x) => x.cpu === i);
      if (k) return { role: 'kernel', args: kernelArgs(k.script, [], this.workloads[i]), barrier: cpus, record };
      return { role: 'workload', args: { workload: this.workloads[i], seed: iseed }, barrier: cpus, record };
    });
  }
}

/**
 * Everything about a run that can be wrong, checked before any thread starts
 * (the scenario's shape, the combinations, the preflight, the trace file):
 * returns the combinations to run, or throws the user's error.
 */
export function checkRun(o: RunOptions): readonly Combination[] {
  const s = o.scenario;
  parseScenario(s, s.name);
  const combos = o.combinations ? checkCombinations(s, o.combinations) : selectCombinations(s, o.arch?.map((arch) => ({ arch })), o.hw);
  preflight(s, combos, o.cpus ?? s.cpus ?? 4);
  // A bad SMPSIM_HOST_CORES is refused before anything runs.
  if (o.hostCores === undefined) hostCoresNow();
  if (o.shard) {
    checkShard(o.shard, o.iterations ?? (o.durationMs ? Infinity : (s.iterations ?? 200)));
    if (o.stopAtFirst) throw new ScenarioError('stopAtFirst cannot be sharded: a shard cannot know whether another stopped earlier');
  }
  if (o.trace) checkOutputFile(o.trace, 'the trace');
  return combos;
}

/**
 * Run a scenario: in stress mode every CPU free-running in its own warm
 * worker thread; in pct mode the same threads taking turns under a seeded
 * PCT schedule, so that every violation can be replayed exactly.
 */
export async function runScenario(o: RunOptions): Promise<RunReport> {
  return runChecked(o, checkRun(o));
}

/** Run the combinations checkRun(o) returned (the CLI checks first, says what it needs to, then runs). */
export async function runChecked(o: RunOptions, combos: readonly Combination[]): Promise<RunReport> {
  const s = o.scenario;
  const cpus = o.cpus ?? s.cpus ?? 4;
  const seed = o.seed ?? 1;
  const mode = o.mode ?? 'stress';
  const depth = o.depth ?? 3;
  const iterations = o.iterations ?? (o.durationMs ? Infinity : (s.iterations ?? 200));
  if (o.shard) checkShard(o.shard, iterations);
  const own = shardIterations(o.shard, iterations);
  // A shard runs iterations k-1, k-1+n, ...; a whole run every one.
  const [from, step] = o.shard ? [o.shard.k - 1, o.shard.n] : [0, 1];
  const pool = o.pool ?? new CpuPool();
  const reports: CombinationReport[] = [];
  // Read when the run starts: the date is the run's, not the report's.
  const made = provenance(o.argv);
  let interrupted = false;
  let traced: { events: number[][]; label: string; iteration: number; seed: number; violating: boolean } | null = null;
  const scenario = o.ipiTimeoutMs ? { ...s, machine: { ...s.machine, ipiTimeoutMs: o.ipiTimeoutMs } } : s;
  try {
    for (let ci = 0; ci < combos.length && !interrupted; ci++) {
      const c = combos[ci];
      const runner = new CombinationRunner(scenario, c, cpus, pool, mode, undefined, o.hostCores);
      await runner.bind();
      const label = `${archLabel(c)} / ${c.hw}`;
      const exec = new CombinationExecution(c, cpus);
      const pct = new PctCalibration();
      // Re-run iteration `it` recording its events (pct: the same schedule, so the same interleaving).
      // Abandoned (o.abort): no trace of it, and the run ends there.
      const record = async (it: number, iseed: number): Promise<number[][] | null> => {
        try {
          return (await runner.iteration(it, iseed, { record: true, depth, k: pct.kFor(it), abort: o.abort })).events!;
        } catch (e) {
          if (!(e instanceof IterationAbandoned)) throw e;
          interrupted = true;
          return null;
        }
      };
      let lastEvents: number[][] | undefined;
      let last = -1;
      if (mode === 'pct' && from > 0 && !o.shouldStop?.()) {
        // Every iteration's schedule depends on k, the step count of
        // iteration 0 (PctCalibration): a shard that does not own it runs it
        // to learn k, and counts nothing of it.
        try {
          pct.observe((await runner.iteration(0, iterationSeed(seed, 0), { depth, k: pct.kFor(0), abort: o.abort })).gateSteps);
        } catch (e) {
          if (!(e instanceof IterationAbandoned)) throw e;
          interrupted = true;
        }
      }
      const sizer = new BatchSizer();
      for (let it = from; it < iterations && !interrupted; ) {
        if (o.durationMs && exec.elapsedMs() >= o.durationMs) break;
        if (o.shouldStop?.()) {
          interrupted = true;
          break;
        }
        // Stress runs cannot be replayed: with --trace every iteration records, one at a time.
        const recording = Boolean(o.trace) && mode === 'stress' && traced === null;
        // Other stress iterations run in batches, without a message per iteration (thread/batch.ts).
        const batched = mode === 'stress' && !recording;
        const size = batched ? sizer.size(o.durationMs ? o.durationMs - exec.elapsedMs() : Infinity) : 1;
        const list: { it: number; seed: number }[] = [];
        for (let i = it; i < iterations && list.length < size; i += step) list.push({ it: i, seed: iterationSeed(seed, i) });
        let outs: IterationOutcome[];
        let abandoned = false;
        let steady: number | undefined;
        const t0 = performance.now();
        try {
          if (batched) ({ outcomes: outs, abandoned, steadyMsPerIteration: steady } = await runner.batch(list, { stopAtFirst: o.stopAtFirst, abort: o.abort, shouldStop: o.shouldStop }));
          else outs = [await runner.iteration(it, list[0].seed, { record: recording, depth, k: pct.kFor(it), abort: o.abort })];
        } catch (e) {
          if (!(e instanceof IterationAbandoned)) throw e;
          interrupted = true;
          break;
        }
        if (batched) sizer.observe(outs.length, performance.now() - t0, steady);
        // A batch ends early when abandoned, at its first violation (stopAtFirst), or on a stop request.
        const cut = outs.length < list.length;
        let stop = abandoned || cut;
        let violated = false;
        for (let j = 0; j < outs.length; j++) {
          const { it: i, seed: iseed } = list[j];
          const out = outs[j];
          if (mode === 'pct') pct.observe(out.gateSteps);
          const token =
            mode === 'pct'
              ? () => encodeReplay({ ...tokenScenario(o.scenarioRef ?? s.name, o.scenarioFile), arch: c.arch, archOptions: c.archOptions, hw: c.hw, cpus, iteration: i, seed: iseed, depth, k: pct.kFor(i) })
              : undefined;
          const firstViolation = exec.add(i, out, token);
          lastEvents = out.events;
          last = i;
          o.onProgress?.({ combination: ci, combinations: combos.length, label, iteration: exec.iterations, iterations: own, violations: exec.violations, index: i, seed: iseed });
          if (firstViolation && o.trace && traced === null) {
            const events = mode === 'pct' ? await record(i, iseed) : out.events!;
            if (events) traced = { events, label, iteration: i, seed: iseed, violating: true };
          }
          if (o.stopAtFirst && out.violations.total > 0) {
            stop = violated = true;
            break;
          }
        }
        // Abandoned or stopped mid-batch: the iterations completed before count, and the run ends, interrupted.
        if (abandoned || (cut && !violated)) interrupted = true;
        if (stop) break;
        it = list[list.length - 1].it + step;
      }
      if (o.trace && traced === null && ci === combos.length - 1 && last >= 0) {
        // No violation anywhere: trace the last iteration.
        const events = mode === 'pct' ? await record(last, iterationSeed(seed, last)) : lastEvents!;
        if (events) traced = { events, label, iteration: last, seed: iterationSeed(seed, last), violating: false };
      }
      reports.push(exec.report());
    }
    if (o.trace && traced) {
      writeTrace(o.trace, traced.events, { scenario: s.name, label: traced.label, mode, iteration: traced.iteration, seed: traced.seed });
      o.onTrace?.({ file: outputTarget(o.trace), label: traced.label, iteration: traced.iteration, seed: traced.seed, violating: traced.violating });
    }
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
    depth: mode === 'pct' ? depth : null,
    iterationsAsked: Number.isFinite(iterations) ? iterations : null,
    durationMs: o.durationMs ?? null,
    scenarioFile: o.scenarioFile ?? null,
    shard: o.shard ? { k: o.shard.k, n: o.shard.n } : null,
    combinations: reports,
    ok: reports.every((r) => r.asExpected !== false),
    interrupted,
    provenance: made,
  };
}
