import { checkOutputFile, writeFileAtomic } from '../../harness/output-file.js';
import type { CpuPool } from '../../harness/pool.js';
import type { RunReport } from '../../harness/report.js';
import { reportCsv } from '../../harness/report-csv.js';
import { type RunOptions, type TraceWritten, checkRun, machineConfigFor, runChecked } from '../../harness/runner.js';
import { type Combination, type Scenario, archLabel } from '../../harness/scenario.js';
import { type Shard, shardLabel } from '../../harness/shard.js';
import { parseArchList } from '../arch-spec.js';
import { checkHw, chooseCombinations } from '../combinations.js';
import { ExitCode, UsageError } from '../errors.js';
import { watchInterrupt } from '../interrupt.js';
import { createProgress } from '../progress.js';
import { exitCodeFor, failing, renderMatrix, renderSingle, renderVerdict, runLine } from '../render.js';
import { DEFAULT_SEARCH_MS, type Reproduction, reproduce } from '../../harness/reproduction.js';
import { DEFAULT_SHRINK_MS } from '../../harness/shrink.js';
import { formatMs } from '../numbers.js';
import { reproduction, shellWord } from '../reproduce.js';
import { loadScenario } from '../scenario-loader.js';
import { type CliContext, RUN_FOR_REAL, commandPool, inputsChecked } from '../context.js';
import { stderrIsTerminal, writeOut, writeErr } from '../io.js';

/** The options of `smpsim run`, as commander parses them. */
export interface RunCommandOptions {
  arch?: string[];
  hw?: string;
  cpus?: number;
  iterations?: number;
  duration?: number;
  seed?: number;
  mode?: 'stress' | 'pct';
  depth?: number;
  json?: boolean;
  trace?: string;
  ipiTimeout?: number;
  /** Run only shard K of N of the iterations (src/harness/shard.ts). */
  shard?: Shard;
  /** Also write the JSON report to this file (whole or not at all). */
  report?: string;
  /** Bound of shrinking a violation's schedule (ms; 0: off; default DEFAULT_SHRINK_MS). */
  shrink?: number;
  /** Bound of the pct search for a token after a stress violation (ms; 0: off; default DEFAULT_SEARCH_MS). */
  tokenSearch?: number;
  /** Write the report as CSV to this file, or to stdout for '-' (in place of the text report). */
  csv?: string;
  /** The expectation of every combination run (an ad hoc one has none; a declared one's is overridden). */
  expect?: 'caught' | 'clean';
}

/** An output file, checked before the run (one line, exit 2); a symbolic link writes its target. */
export function checkOutput(option: string, file: string, what: string): string {
  try {
    return checkOutputFile(file, what);
  } catch (e) {
    throw new UsageError(`${option}: ${(e as Error).message}`);
  }
}

/** What `smpsim run` checked and chose before any thread starts. */
export interface PreparedRun {
  scenario: Scenario;
  ref: string;
  file?: { path: string; sha256: string };
  combos: Combination[];
  cpus: number;
  /** Combinations whose declared expectation --expect overrides with another. */
  overridden: Combination[];
}

/**
 * Check a `smpsim run` command line against the scenario it names and
 * choose the combinations; nothing runs and no file is written. Throws a
 * UsageError (one line, exit 2) for anything the run would refuse.
 */
export async function prepareRun(scenarioArg: string, o: RunCommandOptions): Promise<PreparedRun> {
  if (o.depth !== undefined && o.mode !== 'pct') throw new UsageError('--depth applies only to --mode pct');
  if (o.csv === '-' && o.json) throw new UsageError('--csv - and --json both print on stdout: give --csv a file, or use --report FILE for the JSON');
  const specs = o.arch ? parseArchList(o.arch) : undefined;
  if (o.arch && specs!.length === 0) throw new UsageError('--arch needs at least one policy name');
  const hw = o.hw === undefined ? undefined : checkHw(o.hw);
  const { scenario, ref, file } = await loadScenario(scenarioArg);
  const chosen = chooseCombinations(scenario, specs, hw);
  const overridden = o.expect ? chosen.filter((c) => c.expect !== null && c.expect !== o.expect) : [];
  const combos = o.expect ? chosen.map((c) => ({ ...c, expect: o.expect! })) : chosen;
  const cpus = o.cpus ?? scenario.cpus ?? 4;
  for (const c of combos) {
    try {
      machineConfigFor(scenario, c, cpus);
    } catch (e) {
      throw new UsageError(`${scenario.name} on ${c.hw} with ${cpus} CPUs: ${(e as Error).message}`);
    }
  }
  if (o.shard) {
    const iterations = o.iterations ?? (o.duration ? Infinity : (scenario.iterations ?? 200));
    const given = o.iterations !== undefined ? '--iterations' : `the scenario's default`;
    if (iterations < o.shard.n) throw new UsageError(`--shard ${shardLabel(o.shard)}: ${iterations} iterations per combination (${given}) leave some of ${o.shard.n} shards nothing to run; give --iterations ${o.shard.n} or more`);
  }
  return { scenario, ref, file, combos, cpus, overridden };
}

/** `smpsim run <scenario>`: returns the exit code. */
export async function runCommand(scenarioArg: string, o: RunCommandOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  const trace = o.trace === undefined ? undefined : checkOutput('--trace', o.trace, 'the trace');
  const reportFile = o.report === undefined ? undefined : checkOutput('--report', o.report, 'the report');
  const csvFile = o.csv === undefined || o.csv === '-' ? undefined : checkOutput('--csv', o.csv, 'the CSV report');
  const { scenario, ref, file, combos, cpus, overridden } = await prepareRun(scenarioArg, o);
  if (overridden.length)
    writeErr(`smpsim: --expect ${o.expect} overrides the scenario's expectation of ${overridden.map((c) => `${archLabel(c)} / ${c.hw} (${c.expect})`).join(', ')}\n`);
  let traced: TraceWritten | undefined;
  const options: RunOptions = {
    scenario,
    // Exactly the chosen ones (ad-hoc ones carry expect: null: "no expectation").
    combinations: combos,
    scenarioRef: ref,
    scenarioFile: file,
    shard: o.shard,
    cpus,
    iterations: o.iterations,
    durationMs: o.duration,
    seed: o.seed,
    mode: o.mode,
    depth: o.depth,
    trace,
    onTrace: (t) => (traced = t),
    ipiTimeoutMs: o.ipiTimeout,
    argv: ctx.argv,
  };
  // Signals are answered from here on: the preflight runs the scenario's workload function, and a
  // signal during it stops the run before its first iteration, with the (empty) partial report.
  const progress = createProgress({ durationMs: o.duration });
  const interrupt = watchInterrupt(() => progress.stop());
  let pooled: ReturnType<typeof commandPool> | null = null;
  let report: RunReport;
  const matrix = combos.length > 1;
  const reproductions = new Map<number, Reproduction>();
  try {
    const checked = checkRun(options);
    if (inputsChecked(ctx)) return 0;
    pooled = commandPool(ctx);
    const pool = pooled.pool;
    report = await runChecked({ ...options, pool, onProgress: progress.onProgress, shouldStop: interrupt.shouldStop, abort: interrupt.abort }, checked);
    progress.stop();
    // The JSON report is the run's, as it ran; the text output adds a shrunk token (and one found for a stress violation).
    if (!o.json && o.csv !== '-' && !report.interrupted) {
      for (const ci of toReproduce(report, matrix)) {
        if (interrupt.requested) break;
        reproductions.set(ci, await reproduceWithProgress(report, ci, { ...options, combos, pool, o, shouldStop: interrupt.shouldStop }));
      }
    }
  } finally {
    progress.stop();
    interrupt.dispose();
    await pooled?.release();
  }
  if (o.csv === '-') writeOut(reportCsv(report));
  else printReport(report, scenarioArg, o.json, matrix, reproductions);
  if (trace) writeErr(traced ? `smpsim: trace written to ${traced.file}: ${traced.label}, iteration ${traced.iteration}${traced.violating ? ' (the first violating one)' : ' (the last; no violation)'}; open it in https://ui.perfetto.dev\n` : 'smpsim: --trace: no trace written (no iteration finished)\n');
  if (interrupt.requested && !report.interrupted) {
    writeErr('smpsim: interrupted while looking for a replay token: the output above has what was found\n');
    return interrupt.exitCode;
  }
  if (reportFile && !writeJsonFile('--report', reportFile, report)) return ExitCode.INTERNAL;
  if (csvFile && !writeTextFile('--csv', csvFile, reportCsv(report))) return ExitCode.INTERNAL;
  // Interrupted: 128 + the signal that asked (130 for Ctrl-C, 143 for SIGTERM).
  return report.interrupted ? interrupt.exitCode : exitCodeFor(report);
}

/**
 * A JSON report written to `file`, whole or not at all. The file was
 * checked before the run; if it still cannot be written, one line says so
 * and the caller exits 3 (the report was printed on stdout all the same).
 */
export function writeJsonFile(option: string, file: string, doc: unknown): boolean {
  return writeTextFile(option, file, `${JSON.stringify(doc, null, 2)}\n`);
}

/** `text` written to `file` whole or not at all; false (one line said) if it cannot be. */
export function writeTextFile(option: string, file: string, text: string): boolean {
  try {
    writeFileAtomic(file, text);
    return true;
  } catch (e) {
    writeErr(`smpsim: ${option}: cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
    return false;
  }
}

/**
 * The combinations a replay token is worked out for after the run: the one
 * combination of a single run that caught something; in a matrix those
 * caught that count against the run (caught where the scenario expects
 * clean, or states nothing), not every expected catch.
 */
function toReproduce(report: RunReport, matrix: boolean): number[] {
  return report.combinations.flatMap((c, i) => (c.violations > 0 && (!matrix || failing(report).includes(c)) ? [i] : []));
}

/** The reproduction of combination ci: search (stress runs) and shrink, with progress on stderr when it is a terminal. */
async function reproduceWithProgress(
  report: RunReport,
  ci: number,
  x: RunOptions & { combos: Combination[]; pool: CpuPool; o: RunCommandOptions; shouldStop: () => boolean },
): Promise<Reproduction> {
  const c = report.combinations[ci];
  const searchMs = x.o.tokenSearch ?? DEFAULT_SEARCH_MS;
  const tty = stderrIsTerminal();
  const searching = !c.replay && searchMs > 0;
  if (tty && searching) writeErr(`searching pct schedules of ${c.archLabel} / ${c.hw} for a replay token (up to ${formatMs(searchMs)}; --token-search off skips this)\n`);
  const bar = searching ? createProgress({ durationMs: searchMs }) : null;
  const shrinkMs = x.o.shrink ?? DEFAULT_SHRINK_MS;
  try {
    return await reproduce({
      scenario: x.scenario,
      scenarioRef: x.scenarioRef,
      scenarioFile: x.scenarioFile,
      combination: x.combos[ci],
      report: c,
      cpus: report.cpus,
      seed: report.seed,
      depth: report.depth ?? undefined,
      pool: x.pool,
      searchMs,
      shrinkMs,
      onSearchProgress: bar?.onProgress,
      onShrinkStart: () => {
        bar?.stop();
        if (tty) writeErr(`shrinking the failing schedule (up to ${formatMs(shrinkMs)}; --shrink off skips this)\n`);
      },
      shouldStop: x.shouldStop,
    });
  } finally {
    bar?.stop();
  }
}

/** The report on stdout: JSON (nothing else on stdout), or the text summary. */
export function printReport(report: RunReport, scenarioArg: string, json = false, matrix = report.combinations.length > 1, reproductions: ReadonlyMap<number, Reproduction> = new Map()): void {
  if (json) {
    writeOut(`${JSON.stringify(report, null, 2)}\n`);
    if (report.interrupted) writeErr('smpsim: interrupted: the report is partial\n');
    return;
  }
  const out: string[] = [];
  if (report.interrupted) out.push('interrupted: partial results', '');
  if (!matrix && report.combinations.length === 1) {
    out.push(renderSingle(report));
    const c = report.combinations[0];
    if (c.firstViolatingIteration !== null) out.push('', ...reproduction(report, 0, scenarioArg, reproductions.get(0)));
  } else {
    out.push(`${report.scenario}: ${report.title}`, runLine(report), '', renderMatrix(report));
    const worked = report.combinations.flatMap((c, i) => (reproductions.has(i) ? [i] : []));
    for (const i of worked) {
      const c = report.combinations[i];
      out.push('', `${c.archLabel} / ${c.hw} (${c.expected === null ? 'no expectation' : `expected ${c.expected}`}, ${c.outcome}):`, ...reproduction(report, i, scenarioArg, reproductions.get(i)).map((l) => `  ${l}`));
    }
    const tokens = report.combinations.filter((c, i) => c.replay && !reproductions.has(i));
    if (tokens.length) out.push('', 'replay the first violation of:', ...tokens.map((c) => `  ${c.archLabel} / ${c.hw}: smpsim replay ${shellWord(c.replay!)}`));
  }
  out.push('', renderVerdict(report, matrix));
  writeOut(`${out.join('\n')}\n`);
}
