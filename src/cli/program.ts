import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { VERSION } from '../harness/runner.js';
import { benchIpiCommand } from './commands/bench-ipi.js';
import { benchPoliciesCommand } from './commands/bench-policies.js';
import { benchShootdownCommand } from './commands/bench-shootdown.js';
import { parseCpuList, positiveInt } from './commands/bench-common.js';
import { describeCommand } from './commands/describe.js';
import { listCommand } from './commands/list.js';
import { mergeCommand } from './commands/merge.js';
import { type ReplayCommandOptions, replayCommand } from './commands/replay.js';
import { type RunCommandOptions, runCommand } from './commands/run.js';
import { ExitCode, InterruptedError, UsageError } from './errors.js';
import { parseBound, parseCpus, parseDepth, parseDuration, parseIterations, parseSeed, parseShard } from './numbers.js';
import { beginNotes, dropNotes, flushNotes } from './alias-note.js';
import { type CliContext, RUN_FOR_REAL } from './context.js';
import { oneLine, withIo, writeErr, writeOut } from './io.js';

/** The installed package's root (from dist/src/cli/), so the help can say where the docs it names are. */
const PACKAGE_DIR = fileURLToPath(new URL('../../../', import.meta.url));

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

/**
 * What a parsed command line asks for, given to `dry` instead of running it:
 * the command's name ('run', 'bench ipi', ...) and its action's arguments
 * (positional ones, then the options).
 */
export type DryRun = (command: string, args: unknown[]) => void;

/**
 * The command tree. Actions store their exit code in `result.code`; `ctx`
 * says whether they run for real or stop once their inputs are checked (the
 * fuzzer's in-process path); with `dry`, they only report what they were
 * asked (a test checks that the commands docs and deploy files give are ones
 * smpsim accepts).
 */
export function buildProgram(result: { code: number }, ctx: CliContext = RUN_FOR_REAL, dry?: DryRun): Command {
  // Wrap an action: run it and keep its exit code, or, dry, only say what it got.
  const act =
    <A extends unknown[]>(name: string, run: (...a: A) => number | Promise<number>) =>
    async (...a: A): Promise<void> => {
      if (dry) dry(name, a.slice(0, -1));
      else result.code = await run(...a);
    };

  const program = new Command('smpsim')
    .description('SMP simulator of the races between TLB shootdowns and freeing memory')
    .version(VERSION, '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (str) => writeOut(str),
      writeErr: (str) => writeErr(str),
      // One line whatever the user typed (a value with a newline in it is shown escaped).
      outputError: (str, write) => write(`smpsim: ${oneLine(str.replace(/^error: /, '').replace(/\n(?=\()/g, ' ').replace(/\n$/, ''))}\n`),
    })
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `\nDocs (in the package, ${PACKAGE_DIR}): docs/domain.md, the kernel mechanisms and the ten races; docs/scenarios.md, how to write a scenario; docs/fidelity.md, what each policy and flavour models and where it deviates from the kernel; docs/json-report.md, the --json report; docs/scale-out.md, a campaign in shards on a job engine.`,
    );

  program
    .command('list')
    .description('list the scenarios, architecture policies and hardware flavours, or show where one policy or flavour comes from')
    .option('-a, --arch <name>', 'show one architecture policy: the kernel version, tree, files and commit it models, its deviations and its options')
    .option('--hw <name>', 'show one hardware flavour: its parameters, the manual sections and kernel files behind them, its deviations')
    .option('--json', 'print as one JSON document')
    .addHelpText('after', '\nHow each policy and flavour compares with the kernel, path by path: docs/fidelity.md.')
    .action(act('list', (o: { arch?: string; hw?: string; json?: boolean }) => (o.arch !== undefined || o.hw !== undefined ? describeCommand(o) : listCommand(o))));

  program
    .command('run')
    .description('run a scenario on one or more combinations of architecture policy and hardware')
    .argument('<scenario>', 'a registered scenario name (see `smpsim list`) or a scenario file (.ts, .mts, .js, .mjs) whose default export is a Scenario')
    .option('-a, --arch <specs>', 'policies, comma-separated or repeated, each NAME[:KEY=VALUE...] (e.g. generic-range:itlb=always); default: the scenario\'s', collect)
    .option('--hw <flavour>', 'hardware flavour (default: the scenario\'s)')
    .option('-c, --cpus <n>', 'CPUs, the coordinator included (1-32; default: the scenario\'s, else 4)', parseCpus)
    .addOption(new Option('-n, --iterations <k>', 'iterations per combination (default: the scenario\'s, else 200)').argParser(parseIterations))
    .addOption(new Option('-d, --duration <time>', 'run each combination this long instead (500ms, 10s, 2m); with --iterations, whichever ends first').argParser(parseDuration))
    .option('-s, --seed <s>', 'seed (0-4294967295; default 1)', parseSeed)
    .addOption(new Option('--mode <mode>', 'stress: free-running threads; pct: deterministic PCT scheduling').choices(['stress', 'pct']).default('stress'))
    .option('--depth <d>', 'PCT depth, d - 1 priority change points (with --mode pct; default 3)', parseDepth)
    .option('--json', 'print the run report as one JSON document on stdout (see docs/json-report.md)')
    .addOption(new Option('--expect <outcome>', 'the outcome every combination run must have: for one the scenario does not declare (else reported only), or to override the scenario\'s').choices(['caught', 'clean']))
    .option('--trace <file>', 'write the first violating iteration (else the last) as Trace Event Format JSON for https://ui.perfetto.dev (see docs/trace.md)')
    .addOption(new Option('--ipi-timeout <time>', 'watchdog: a CPU that does not acknowledge an IPI within this long is stuck (exit 3; default 2s)').argParser(parseDuration))
    .option('--shard <k/n>', 'run shard K of N: iterations i with i mod N = K - 1 of every combination, with the seeds the whole run gives them (see docs/scale-out.md; `smpsim merge` adds the shards up)', parseShard)
    .option('--report <file>', 'also write the JSON report to this file, whole or not at all (checked before the run)')
    .addOption(new Option('--shrink <time>', 'after a violation, look this long for a smaller schedule that fails the same way, and print its token (5s default; off skips it)').argParser(parseBound))
    .addOption(new Option('--token-search <time>', 'after a stress violation, run the combination under the PCT scheduler this long for a replay token (10s default; off skips it)').argParser(parseBound))
    .option('--csv <file>', 'also write the report as CSV, one row per combination, to this file (whole or not at all); - prints it on stdout instead of the text report')
    .addHelpText(
      'after',
      `
With several combinations, prints one row per combination and a verdict; with
exactly one, a summary, the first violation in full and how to reproduce it:
a replay token (shrunk; after a stress run, one the PCT scheduler found for
the same combination), else the exact command. In a matrix, combinations that
differ from expectation get the same.

Exit codes: 0 every combination run came out as expected, 1 some combination
did not (caught where clean was expected, or clean where caught was),
2 usage or input error, 3 internal failure, 130/143/129 interrupted by
SIGINT/SIGTERM/SIGHUP (the first stops after the current iteration and prints
the partial report; an iteration still running 1 s later, or at a second
signal, is abandoned and not counted; a third quits without a report).
A combination's expectation is the scenario's, or --expect's; one without
any (a combination the scenario does not declare, or one it declares with
expect: null) is reported only and never changes the exit code.

Examples:
  smpsim run arm-delayed-free
  smpsim run arm-delayed-free --arch arm-2.6.37 --hw arm11mpcore --iterations 20
  smpsim run arm-delayed-free --arch arm-2.6.38,generic-range:itlb=always --hw armv7-mp --duration 10s
  smpsim run ./my-scenario.ts --json > report.json
  smpsim run arm-delayed-free --arch arm-2.6.37 --hw x86 --expect caught
  smpsim run arm-delayed-free --csv results.csv
  smpsim run arm-delayed-free --mode pct --shard 2/4 --report shard-2.json`,
    )
    .action(act('run', (scenario: string, o: RunCommandOptions) => runCommand(scenario, o, ctx)));

  program
    .command('merge')
    .description('merge the JSON reports of a campaign\'s shards (smpsim run --shard K/N) into one, or bench ipi/shootdown reports by their histograms')
    .argument('<reports...>', 'JSON report files')
    .option('--json', 'print the merged report as one JSON document on stdout')
    .option('--report <file>', 'also write the merged JSON report to this file, whole or not at all')
    .option('--require-complete', 'refuse (exit 2) when shards are missing, instead of merging those present with a warning')
    .addHelpText(
      'after',
      `
Reports of different versions, scenarios, modes, seeds, CPU counts, depths,
iteration counts or combinations, and shards given twice, are refused (exit 2,
one line). Missing shards are named on stderr and in the report
(merged.missing, merged.incomplete). Exit codes otherwise as smpsim run's.

Example:
  smpsim merge shard-1.json shard-2.json shard-3.json shard-4.json --report campaign.json`,
    )
    .action(act('merge', (files: string[], o: Parameters<typeof mergeCommand>[1]) => mergeCommand(files, o, ctx)));

  program
    .command('replay')
    .description('replay a run from the token `smpsim run` prints for a violation')
    .argument('<token>', 'replay token')
    .option('--json', 'print the run report as one JSON document on stdout')
    .option('--full', 'print every event up to the violation, not only the story (kernel actions, IPIs, the violating CPU on the victim)')
    .option('--trace <file>', 'also write the replayed iteration as a Perfetto trace (Chrome trace-event JSON)')
    .action(act('replay', (token: string, o: ReplayCommandOptions) => replayCommand(token, o, ctx)));

  const bench = program.command('bench').description('measure IPI and shootdown costs: latency histograms, scaling with CPUs, policy comparison');
  const outputs = (c: Command): Command =>
    c
      .option('--json', 'print the results as one JSON document on stdout')
      .option('--csv', 'print the results as CSV on stdout')
      .option('--plot <file.svg>', 'also write a plot as SVG')
      .option('--cost <key=cycles>', 'cost model, comma-separated or repeated: ipi-send, ipi-receive, broadcast, invalidate-entry, flush-tlb, walk-level (defaults: 1500, 2500, 1000, 150, 500, 30)', collect);

  outputs(
    bench
      .command('ipi')
      .description('round-trip latency of one IPI to a CPU in its run loop, beside a raw Atomics ping-pong between the same threads')
      .option('-n, --samples <n>', 'samples of each series (default 20000)', positiveInt('samples'))
      .option('--rounds <r>', 'alternating rounds the samples are split into (default 10)', positiveInt('rounds', 1000)),
  ).action(act('bench ipi', (o: Parameters<typeof benchIpiCommand>[0]) => benchIpiCommand(o, ctx)));

  outputs(
    bench
      .command('shootdown')
      .description('latency of one shootdown to every CPU of the mm, and munmap/madvise + touch throughput, against CPU count')
      .option('-c, --cpus <list>', 'CPU counts, comma-separated (default 1,2,4,8,16)', parseCpuList)
      .option('--flavour <list>', 'flush flavours: ipi (x86), broadcast (arm64), or both (default ipi,broadcast)')
      .option('-n, --samples <n>', 'shootdowns per point at most (default 2000)', positiveInt('samples'))
      .option('--ops <n>', 'munmap/madvise operations per point at most (default 400)', positiveInt('ops'))
      .addOption(new Option('--budget <time>', 'wall time per measurement at most, once a minimum is taken (default 1s)').argParser(parseDuration))
      .option('-a, --arch <policy>', 'policy of the munmap + touch runs (default linux-6)'),
  ).action(act('bench shootdown', (o: Parameters<typeof benchShootdownCommand>[0]) => benchShootdownCommand(o, ctx)));

  outputs(
    bench
      .command('policies')
      .description('each policy on the same scenario workload and seeds: IPIs, flushes by kind, entries dropped, refills, delayed frees, host time')
      .argument('<scenario>', 'a registered scenario name or a scenario file')
      .option('-a, --arch <specs>', "policies, comma-separated or repeated, NAME[:KEY=VALUE...]; default: the scenario's", collect)
      .option('--hw <flavour>', "hardware flavour (default: the scenario's first)")
      .option('-c, --cpus <n>', "CPUs (default: the scenario's, else 4)", parseCpus)
      .addOption(new Option('-n, --iterations <k>', 'iterations per policy (default 20)').argParser(parseIterations))
      .option('-s, --seed <s>', 'seed (default 1)', parseSeed)
      .addHelpText(
        'after',
        `
Example: the seed's question, is flushing I-TLBs unconditionally cheaper than
the whole-mm flush after freeing page tables?
  smpsim bench policies itlb-exec-policy --plot policies.svg`,
      ),
  ).action(act('bench policies', (scenario: string, o: Parameters<typeof benchPoliciesCommand>[1]) => benchPoliciesCommand(scenario, o, ctx)));

  return program;
}

/**
 * Parse argv (process.argv: node, the script, then the arguments), run the
 * command, and map every outcome to an exit code. A refused input prints one
 * line on stderr and nothing on stdout, and returns 2.
 */
export async function main(argv: string[], ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  const result = { code: ExitCode.OK as number };
  beginNotes();
  const program = buildProgram(result, { ...ctx, argv: argv.slice(2) });
  try {
    await program.parseAsync(argv);
    flushNotes();
    return result.code;
  } catch (e) {
    dropNotes();
    if (e instanceof CommanderError) {
      // Commander has printed its message (or the help) already.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? ExitCode.OK : ExitCode.USAGE;
    }
    if (e instanceof InterruptedError) {
      writeErr(`smpsim: ${oneLine(e.message)}\n`);
      return e.exitCode;
    }
    if (e instanceof UsageError || (e as { usage?: unknown }).usage === true) {
      writeErr(`smpsim: ${oneLine((e as Error).message)}\n`);
      return ExitCode.USAGE;
    }
    const message = e instanceof Error ? e.message : String(e);
    // A stuck or crashed simulated CPU names itself; anything else is ours.
    const name = e instanceof Error ? e.name : '';
    const prefix = name === 'IpiTimeoutError' || name === 'DeadlockError' ? 'watchdog: ' : name === 'CpuFailure' || name === 'CpuThreadDied' ? '' : 'internal error: ';
    writeErr(`smpsim: ${prefix}${message.split('\n')[0]}\n`);
    if (process.env.SMPSIM_DEBUG && e instanceof Error) writeErr(`${e.stack}\n`);
    return ExitCode.INTERNAL;
  }
}

/** What one in-process run of the CLI printed, and its exit code. */
export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI in this process, its output captured: main() exactly as the bin
 * runs it, less the process.exit. With checkOnly (the default here) a
 * command stops once its inputs are checked, before any thread starts: the
 * fuzzer's path (tools/fuzz/), hundreds of cases a second instead of a
 * process each. Run for real (checkOnly false), stderr is not a terminal (no
 * progress bars), as a spawned CLI's piped stderr is not; `ctx.pool` lends
 * the commands a warm CPU pool instead of each starting its own. One at a
 * time: the output capture is the CLI's only one.
 */
export async function runCli(args: string[], ctx: CliContext = { checkOnly: true }): Promise<CliOutcome> {
  let stdout = '';
  let stderr = '';
  const io = { out: (t: string) => void (stdout += t), err: (t: string) => void (stderr += t) };
  const code = await withIo(io, () => main(['node', 'smpsim', ...args], ctx));
  return { code, stdout, stderr };
}
