/** Process exit codes of the smpsim CLI. */
export const ExitCode = {
  /** Every combination run came out as expected (one without expectation is reported only). */
  OK: 0,
  /** Some combination came out otherwise than expected (src/cli/render.ts, failing). */
  VIOLATIONS: 1,
  /** Bad command line or input (unknown name, invalid number, unreadable scenario file). */
  USAGE: 2,
  /** A failure inside smpsim. */
  INTERNAL: 3,
  /** Interrupted by SIGINT (128 + 2). */
  INTERRUPTED: 130,
} as const;

/** An error in what the user gave us: printed as one line, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A signal ended the command before it had anything to report: one line, exit 128 + the signal. */
export class InterruptedError extends Error {
  override readonly name = 'InterruptedError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
