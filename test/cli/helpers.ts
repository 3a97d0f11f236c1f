import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RUN_FOR_REAL } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/program.js';
import type { CpuPool } from '../../src/harness/pool.js';
import { usePool } from '../helpers.js';

/** The built CLI (the `pretest` script builds it). */
export const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run `node dist/src/cli/main.js ...args`. `onStderr` sees stderr as it
 * arrives, with the child, so a test can signal it at a known point.
 */
export function cli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; onStderr?: (text: string, child: ReturnType<typeof spawn>) => void } = {},
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SMPSIM_DEBUG: '', ...opts.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      opts.onStderr?.(stderr, child);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

/**
 * The CLI's main() in this process, its output captured (runCli), for the
 * many cases that need no process of their own: a refused input (with
 * `checkOnly`, it stops once the inputs are checked, so an input that should
 * have been refused comes back with exit 0 and nothing printed) or `smpsim
 * list`. Half a second of process start saved a case; the fuzz test checks
 * that a spawned CLI prints the same, and every file that uses this spawns a
 * few of its cases too. One call at a time (never in concurrent tests): the
 * capture is the CLI's only one.
 */
export async function cliInProcess(args: string[], opts: { checkOnly?: boolean; pool?: CpuPool } = {}): Promise<CliResult> {
  const r = await runCli(args, opts.checkOnly === false ? { ...RUN_FOR_REAL, pool: opts.pool } : { checkOnly: true });
  return { code: r.code, signal: null, stdout: r.stdout, stderr: r.stderr };
}

/**
 * The CLI run for real in this process: main() as the bin runs it (the same
 * commands, checks, output and exit code; stderr is not a terminal, as with
 * a spawned CLI whose stderr is a pipe), on one warm CPU pool kept for the
 * test file, so a command costs its iterations and not a process start and
 * fresh CPU threads (about half a second). For what only a real process
 * shows (the bin, signals, a scenario file loaded by Node's own loader),
 * use cli(). One call at a time (never two at once, never in concurrent
 * tests): the output capture is the CLI's only one, and a pool runs one
 * machine at a time.
 */
export function inProcessCli(): (args: string[]) => Promise<CliResult> {
  const pool = usePool();
  return (args) => cliInProcess(args, { checkOnly: false, pool: pool() });
}

/** A Node stack trace line. */
export const STACK_LINE = /^\s+at .+/m;

/**
 * Signals to send to the CLI at known points: `steps[i][1]` once stderr
 * first holds `steps[i][0]`, in order. `sent()` counts those sent; `firstAt`
 * is when the first was (performance.now()).
 */
export function signalsOn(steps: [text: string, signal: NodeJS.Signals][]): {
  onStderr: (text: string, child: ReturnType<typeof spawn>) => void;
  sent: () => number;
  firstAt: () => number;
} {
  let next = 0;
  let t0 = 0;
  return {
    onStderr: (text, child) => {
      if (next < steps.length && text.includes(steps[next][0])) {
        if (next === 0) t0 = performance.now();
        child.kill(steps[next++][1]);
      }
    },
    sent: () => next,
    firstAt: () => t0,
  };
}
