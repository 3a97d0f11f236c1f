/**
 * How many stress iterations the next batch runs (CombinationRunner.batch).
 * Between two batches the harness answers a stop request (Ctrl-C), reports
 * progress and checks a --duration, so a batch lasts about BATCH_MS; the
 * first batch is FIRST_BATCH iterations (one under a --duration), which
 * measure what an iteration costs.
 *
 * The cost per iteration is measured without the batch's own start (the
 * harness's message to every thread, each woken in its event loop) when the
 * batch says what its iterations took once it ran (`steadyMs`). A batch's
 * wall time over its size overstates it, and most for small batches: at 4
 * CPUs on 2 cores a batch of 10 iterations took 50 ms, 5 ms each against
 * 1.5 ms once running, so the batches stayed at 10 and the first 300
 * iterations of a run went at 430 to 590 a second rather than 700.
 */
export const BATCH_MS = 50;
export const BATCH_MAX = 256;
export const FIRST_BATCH = 2;

export class BatchSizer {
  private msPerIteration = 0;

  /** The next batch's size, at most what fits in `remainingMs` (a --duration's rest; Infinity: none). */
  size(remainingMs = Infinity): number {
    // Nothing known yet: FIRST_BATCH, or a single iteration when a --duration may end the run before two.
    if (this.msPerIteration === 0) return Number.isFinite(remainingMs) ? 1 : FIRST_BATCH;
    let n = Math.floor(BATCH_MS / this.msPerIteration);
    if (Number.isFinite(remainingMs)) n = Math.min(n, Math.ceil(remainingMs / this.msPerIteration));
    return Math.max(1, Math.min(BATCH_MAX, n));
  }

  /** A batch of `n` iterations took `ms` in all, and `steadyMs` each once it ran (if it knows). */
  observe(n: number, ms: number, steadyMs?: number): void {
    if (n <= 0) return;
    const each = steadyMs !== undefined && steadyMs > 0 ? Math.min(steadyMs, ms / n) : ms / n;
    this.msPerIteration = Math.max(each, 1e-3);
  }
}
