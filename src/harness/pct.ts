import { G } from '../machine/layout.js';
import { Rng } from '../machine/rng.js';

/**
 * PCT (probabilistic concurrency testing, Burckhardt, Kothari, Musuvathi and
 * Nagarakatte, ASPLOS 2010): give the n threads distinct random priorities
 * d .. d+n-1, pick d-1 change points uniformly among the k steps of a run, run
 * the highest-priority runnable thread, and at change point i drop the running
 * thread's priority to i. A bug of depth d shows with probability at least
 * 1 / (n k^(d-1)) per run. The machine's step gate (machine/gate.ts) executes
 * the schedule; this only draws it from a seed.
 */
export interface PctSchedule {
  priorities: number[];
  changes: number[];
}

/** The deepest PCT schedule the step gate takes: depth - 1 change points, at most G.MAX_CHANGES. */
export const MAX_PCT_DEPTH = G.MAX_CHANGES + 1;

export function pctSchedule(seed: number, threads: number, depth: number, k: number): PctSchedule {
  const rng = new Rng(seed ^ 0x7c7);
  const priorities = Array.from({ length: threads }, (_, i) => depth + i);
  for (let i = threads - 1; i > 0; i--) {
    const j = rng.below(i + 1);
    [priorities[i], priorities[j]] = [priorities[j], priorities[i]];
  }
  const changes: number[] = [];
  for (let i = 0; i < depth - 1; i++) changes.push(1 + rng.below(Math.max(1, k)));
  return { priorities, changes };
}

/**
 * Calibrating k, the step count change points are drawn from. PCT needs an
 * estimate of a run's length: the first iteration of a combination runs with
 * no change points and its step count becomes k for every later one. So an
 * iteration's schedule depends on (seed, depth, k), and the k to replay
 * iteration `it` with is kFor(it): undefined for the first.
 */
export class PctCalibration {
  private k: number | undefined;

  /** Record the steps an iteration took under the gate (only the first counts). */
  observe(gateSteps: number): void {
    if (this.k === undefined) this.k = Math.max(1, gateSteps);
  }

  /** The k iteration `it` runs (and replays) with. */
  kFor(it: number): number | undefined {
    return it === 0 ? undefined : this.k;
  }
}
