import { constants } from 'node:os';

/**
 * A signal that ends a run: SIGINT (Ctrl-C), SIGTERM (what CI runners and
 * job engines send on a timeout) and SIGHUP (a closed terminal) alike. The
 * first asks the runner to stop at the next iteration (shouldStop), so the
 * partial report is still printed (JSON marked interrupted); a second exits
 * at once. The exit code is 128 + the signal's number (130 for SIGINT).
 */
export interface Interrupt {
  readonly requested: boolean;
  /** The signal that asked to stop, or null. */
  readonly signal: NodeJS.Signals | null;
  /** 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP). */
  readonly exitCode: number;
  shouldStop: () => boolean;
  dispose(): void;
}

/** The signals that end a run as Ctrl-C does. */
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const SIGNALS = INTERRUPT_SIGNALS;

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalExitCode(s: NodeJS.Signals): number {
  return 128 + (constants.signals[s] ?? 2);
}

export function watchInterrupt(onFirst?: () => void): Interrupt {
  let signal: NodeJS.Signals | null = null;
  const code = signalExitCode;
  const handler = (s: NodeJS.Signals): void => {
    if (signal) {
      process.stderr.write(`\nsmpsim: ${s} again, exiting\n`);
      process.exit(code(s));
    }
    signal = s;
    onFirst?.();
    process.stderr.write(`\nsmpsim: ${s === 'SIGINT' ? 'interrupt' : s}: stopping after the current iteration (${s === 'SIGINT' ? 'Ctrl-C' : 'the signal'} again to quit now)\n`);
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    get requested() {
      return signal !== null;
    },
    get signal() {
      return signal;
    },
    get exitCode() {
      return code(signal ?? 'SIGINT');
    },
    shouldStop: () => signal !== null,
    dispose() {
      for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
