/**
 * Exit with `code` once stdout and stderr have taken everything written.
 * Exiting explicitly (rather than letting the event loop drain) keeps a CPU
 * thread stuck after a failed run from keeping the process alive.
 */
export async function exitWhenFlushed(code: number): Promise<never> {
  const flush = (s: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => (s.writableLength === 0 ? resolve() : s.write('', () => resolve())));
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  process.exit(code);
}

/** Wait for `p`, but no longer than `ms` (a stuck thread must not hang the CLI). */
export async function atMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms).unref()))]);
  clearTimeout(timer);
}
