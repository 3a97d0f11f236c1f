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
