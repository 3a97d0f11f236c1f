/**
 * How many stress iterations the next batch runs (CombinationRunner.batch).
 * Between two batches the harness answers a stop request (Ctrl-C), reports
 * progress and checks a --duration, so a batch lasts about BATCH_MS; the
 * first batch is one iteration, which measures what an iteration costs.
 */
export const BATCH_MS = 50;
export const BATCH_MAX = 256;

export class BatchSizer {
  private msPerIteration = 0;

  /** The next batch's size, at most what fits in `remainingMs` (a --duration's rest; Infinity: none). */
  size(remainingMs = Infinity): number {
    if (this.msPerIteration === 0) return 1;
    let n = Math.floor(BATCH_MS / this.msPerIteration);
    if (Number.isFinite(remainingMs)) n = Math.min(n, Math.ceil(remainingMs / this.msPerIteration));
    return Math.max(1, Math.min(BATCH_MAX, n));
  }

  /** A batch of `n` iterations took `ms`. */
  observe(n: number, ms: number): void {
    if (n > 0) this.msPerIteration = Math.max(ms / n, 1e-3);
  }
}
