import type { CpuPool } from './pool.js';
import type { CombinationReport, ViolationReport } from './report.js';
import { decodeReplay, encodeReplay } from './replay-token.js';
import { type RunOptions, runChecked } from './runner.js';
import type { Combination, Scenario } from './scenario.js';
import { type ShrinkResult, DEFAULT_SHRINK_MS, shrinkReplay } from './shrink.js';

/**
 * From a caught combination to a token that replays it: the pct token the
 * run minted, or, for a stress run (not replayable), one found by running
 * the same combination under the PCT scheduler for a bounded time; then
 * shrunk (shrink.ts). The one place run, raceTests and the soak share.
 */

/** Default bound of the pct search after a stress violation (ms). */
export const DEFAULT_SEARCH_MS = 10_000;

export interface ReproduceOptions {
  scenario: Scenario;
  /** How a token names the scenario (RunOptions.scenarioRef / scenarioFile). */
  scenarioRef?: string;
  scenarioFile?: RunOptions['scenarioFile'];
  combination: Combination;
  /** The combination's report from the run that caught it. */
  report: CombinationReport;
  cpus: number;
  seed: number;
  depth?: number;
  pool: CpuPool;
  /** Bound of the pct search (ms; 0: no search). */
  searchMs?: number;
  /** Bound of the shrink (ms; 0: no shrink). */
  shrinkMs?: number;
  /** Progress of the pct search, after every iteration. */
  onSearchProgress?: RunOptions['onProgress'];
  /** Called when the shrink starts (after any search). */
  onShrinkStart?: () => void;
  /** Polled between search iterations and shrink attempts: true stops them. */
  shouldStop?: () => boolean;
}

export interface Reproduction {
  /** The token to print: shrunk when shrinking found smaller, else the one found; null when there is none. */
  token: string | null;
  /** The violation the token replays to. */
  violation: ViolationReport | null;
  /** Where the unshrunk token came from: the pct run itself, or the search after a stress run. */
  from: 'run' | 'search' | null;
  /** The search after a stress run, when there was one: pct iterations run, how long, whether it found a violation. */
  search: { iterations: number; ms: number; found: boolean; complete: boolean } | null;
  shrink: ShrinkResult | null;
}

export async function reproduce(o: ReproduceOptions): Promise<Reproduction> {
  const c = o.report;
  let token = c.replay;
  let violation = c.firstViolation;
  let search: Reproduction['search'] = null;
  if (!token && c.violations > 0 && (o.searchMs ?? DEFAULT_SEARCH_MS) > 0) {
    const t0 = performance.now();
    const r = await runChecked(
      {
        scenario: o.scenario,
        scenarioRef: o.scenarioRef,
        scenarioFile: o.scenarioFile,
        combinations: [o.combination],
        cpus: o.cpus,
        seed: o.seed,
        mode: 'pct',
        depth: o.depth,
        durationMs: o.searchMs ?? DEFAULT_SEARCH_MS,
        stopAtFirst: true,
        pool: o.pool,
        onProgress: o.onSearchProgress,
        shouldStop: o.shouldStop,
      },
      [o.combination],
    );
    const found = r.combinations[0];
    token = found.replay;
    violation = found.firstViolation;
    search = { iterations: found.iterations, ms: performance.now() - t0, found: token !== null, complete: !r.interrupted };
  }
  if (!token) return { token: null, violation: c.firstViolation, from: null, search, shrink: null };
  const from = search ? 'search' : 'run';
  const shrinkMs = o.shrinkMs ?? DEFAULT_SHRINK_MS;
  if (shrinkMs <= 0) return { token, violation, from, search, shrink: null };
  o.onShrinkStart?.();
  const shrink = await shrinkReplay(o.scenario, decodeReplay(token), { pool: o.pool, timeMs: shrinkMs, known: violation ?? undefined, shouldStop: o.shouldStop });
  if (!shrink) return { token, violation, from, search, shrink: null };
  return { token: encodeReplay(shrink.spec), violation: shrink.violation, from, search, shrink };
}

/** "4 → 2 CPUs, workload budget 1000 → 640 steps, 2 → 0 change points" (the dimensions that shrank), or "nothing smaller fails the same way". */
export function shrinkSummary(s: ShrinkResult): string {
  const parts: string[] = [];
  if (s.after.cpus < s.before.cpus) parts.push(`${s.before.cpus} → ${s.after.cpus} CPUs`);
  if (s.after.budget < s.before.budget) parts.push(`workload budget ${s.before.budget} → ${s.after.budget} steps per CPU`);
  if (s.after.changes < s.before.changes) parts.push(`${s.before.changes} → ${s.after.changes} change points`);
  const what = parts.length ? parts.join(', ') : 'nothing smaller fails the same way';
  return `${what} (${s.runs} attempt${s.runs === 1 ? '' : 's'} in ${(s.ms / 1000).toFixed(1)} s${s.complete ? '' : ', cut short by its bound'})`;
}
