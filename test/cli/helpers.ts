import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
