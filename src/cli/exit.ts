import { ExitCode } from './errors.js';

/**
 * A report that could not be written (a full disk, `> /dev/full`) is an
 * error, said on stderr, never a silent exit 0. A reader that went away
 * (EPIPE: `| head`) is not: the reader asked for no more.
 */
let stdoutError: NodeJS.ErrnoException | null = null;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  stdoutError ??= e;
});

/**
 * Exit with `code` once stdout and stderr have taken everything written.
 * Exiting explicitly (rather than letting the event loop drain) keeps a CPU
 * thread stuck after a failed run from keeping the process alive. If stdout
 * failed (other than EPIPE), exit 3 with one line saying so.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  const flush = (s: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  // A failed write's 'error' event comes on a later tick.
  await new Promise((resolve) => setImmediate(resolve));
  const failed = stdoutError as NodeJS.ErrnoException | null;
  if (failed && failed.code !== 'EPIPE') {
    process.stderr.write(`smpsim: cannot write to standard output: ${failed.code ?? failed.message}\n`);
    process.exit(ExitCode.INTERNAL);
  }
  process.exit(code);
}

/** Wait for `p`, but no longer than `ms` (a stuck thread must not hang the CLI). */
export async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()))]);
  clearTimeout(timer);
}
