import { InterruptedError, UsageError } from './errors.js';
import { INTERRUPT_SIGNALS, signalExitCode } from './interrupt.js';
import { parseDuration } from './numbers.js';
import { COMPILE_ERROR_CODE } from './ts-hooks.js';

/** How long a scenario file may take to load unless SMPSIM_LOAD_TIMEOUT says otherwise. */
export const DEFAULT_LOAD_TIMEOUT_MS = 10_000;

/** The time limit on loading a scenario file: SMPSIM_LOAD_TIMEOUT (a duration: 500ms, 10s, 1m), else 10 s. */
export function loadTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.SMPSIM_LOAD_TIMEOUT;
  if (v === undefined || v === '') return DEFAULT_LOAD_TIMEOUT_MS;
  try {
    return parseDuration(v);
  } catch (e) {
    throw new UsageError(`SMPSIM_LOAD_TIMEOUT='${v}': ${(e as Error).message}`);
  }
}

type Outcome =
  | { kind: 'loaded'; module: Record<string, unknown> }
  | { kind: 'failed'; error: unknown }
  | { kind: 'timeout' }
  | { kind: 'unsettled' }
  | { kind: 'signal'; signal: NodeJS.Signals };

/**
 * Import a user's module (a scenario file), which runs the user's top-level
 * code, and return what it exports, or fail with one line:
 *  - a top-level await that nothing can ever settle: the event loop empties
 *    while the import is pending, and Node emits 'beforeExit' (were the
 *    import awaited unchecked, Node would exit 13 with nothing said). The
 *    time limit's timer is unref'd so that it never hides this case;
 *  - one still pending after `timeoutMs` (something keeps the event loop
 *    alive: an interval, a socket, a long timer): a UsageError too;
 *  - SIGINT, SIGTERM or SIGHUP while it loads: an InterruptedError (exit
 *    128 + the signal), after which the caller's cleanup still runs.
 * A module stuck in a synchronous loop blocks this thread and cannot be timed
 * here; the caller arranges that it leaves nothing behind (scenario-loader.ts).
 */
export async function importBounded(url: string, shown: string, timeoutMs: number): Promise<Record<string, unknown>> {
  let settle!: (o: Outcome) => void;
  const outcome = new Promise<Outcome>((resolve) => (settle = resolve));
  const timer = setTimeout(() => settle({ kind: 'timeout' }), timeoutMs).unref();
  const onBeforeExit = (): void => settle({ kind: 'unsettled' });
  const onSignal = (signal: NodeJS.Signals): void => settle({ kind: 'signal', signal });
  process.on('beforeExit', onBeforeExit);
  for (const s of INTERRUPT_SIGNALS) process.on(s, onSignal);
  import(url).then(
    (module: Record<string, unknown>) => settle({ kind: 'loaded', module }),
    (error: unknown) => settle({ kind: 'failed', error }),
  );
  let o: Outcome;
  try {
    o = await outcome;
  } finally {
    clearTimeout(timer);
    process.off('beforeExit', onBeforeExit);
    for (const s of INTERRUPT_SIGNALS) process.off(s, onSignal);
  }
  switch (o.kind) {
    case 'loaded':
      return o.module;
    case 'failed':
      if ((o.error as { code?: unknown } | null)?.code === COMPILE_ERROR_CODE) throw new UsageError(`cannot compile scenario file '${shown}': ${firstLine(o.error)}`);
      throw new UsageError(`cannot load scenario file '${shown}': ${firstLine(o.error)}`);
    case 'timeout':
      throw new UsageError(
        `scenario file '${shown}' did not finish loading within ${timeoutMs / 1000} s (its top-level code is still waiting; SMPSIM_LOAD_TIMEOUT sets the limit)`,
      );
    case 'unsettled':
      throw new UsageError(`scenario file '${shown}' never finished loading: its top-level await waits for something that can never happen`);
    case 'signal':
      throw new InterruptedError(`interrupted (${o.signal}) while loading scenario file '${shown}'`, signalExitCode(o.signal));
  }
}

export function firstLine(e: unknown): string {
  const m = e instanceof Error ? e.message : String(e);
  return m.split('\n')[0];
}
