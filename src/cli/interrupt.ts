import { constants } from 'node:os';
import { writeErr } from './io.js';

/**
 * A signal that ends a run: SIGINT (Ctrl-C), SIGTERM (what CI runners and
 * job engines send on a timeout) and SIGHUP (a closed terminal) alike.
 *  - The first asks the runner to stop at the next iteration (shouldStop),
 *    so the partial report is still printed (JSON marked interrupted). An
 *    iteration still running ABANDON_AFTER_MS later (a stuck CPU waiting
 *    out a long --ipi-timeout) is abandoned: `abort` fires, its threads are
 *    made to leave, and it counts neither clean nor caught.
 *  - A second abandons the iteration at once; the report of what was done
 *    is still printed.
 *  - A third exits at once, without a report.
 * The exit code is 128 + the first signal's number (130 for SIGINT).
 */
export interface Interrupt {
  readonly requested: boolean;
  /** The signal that asked to stop, or null. */
  readonly signal: NodeJS.Signals | null;
  /** 128 + the signal's number (130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP). */
  readonly exitCode: number;
  shouldStop: () => boolean;
  /** Fires when the iteration (or measurement) in progress is to be abandoned. */
  readonly abort: AbortSignal;
  dispose(): void;
}

/** The signals that end a run as Ctrl-C does. */
export const INTERRUPT_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** How long after the first signal an iteration still running is abandoned. */
export const ABANDON_AFTER_MS = 1000;

/** 128 + the signal's number: 130 for SIGINT, 143 for SIGTERM, 129 for SIGHUP. */
export function signalExitCode(s: NodeJS.Signals): number {
  return 128 + (constants.signals[s] ?? 2);
}

/** `what`: what is stopped ("iteration", "measurement"), for the messages. */
export function watchInterrupt(onFirst?: () => void, what = 'iteration'): Interrupt {
  let signal: NodeJS.Signals | null = null;
  let count = 0;
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const abandon = (message: string): void => {
    clearTimeout(timer);
    if (controller.signal.aborted) return;
    writeErr(`smpsim: ${message}\n`);
    controller.abort();
  };
  const handler = (s: NodeJS.Signals): void => {
    count++;
    if (count >= 3) {
      writeErr(`\nsmpsim: ${s} a third time, exiting without a report\n`);
      process.exit(signalExitCode(signal ?? s));
    }
    if (count === 2) {
      abandon(`${s} again: abandoning the ${what} in progress (not counted)`);
      return;
    }
    signal = s;
    onFirst?.();
    const again = s === 'SIGINT' ? 'Ctrl-C' : 'the signal';
    writeErr(`\nsmpsim: ${s === 'SIGINT' ? 'interrupt' : s}: stopping after the current ${what} (${again} again to stop it now, a third time to quit)\n`);
    timer = setTimeout(() => abandon(`the ${what} in progress did not end within ${ABANDON_AFTER_MS / 1000} s: abandoning it (not counted)`), ABANDON_AFTER_MS).unref();
  };
  for (const s of INTERRUPT_SIGNALS) process.on(s, handler);
  return {
    get requested() {
      return signal !== null;
    },
    get signal() {
      return signal;
    },
    get exitCode() {
      return signalExitCode(signal ?? 'SIGINT');
    },
    shouldStop: () => signal !== null,
    abort: controller.signal,
    dispose() {
      clearTimeout(timer);
      for (const s of INTERRUPT_SIGNALS) process.off(s, handler);
    },
  };
}
