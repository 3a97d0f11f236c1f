import type { ViolationReport } from './report.js';
import { describeViolation } from './report.js';
import { canonicalPolicyName } from '../kernel/index.js';
import { decodeReplay, type ReplaySpec } from './replay-token.js';
import { checkCombinations } from './combinations.js';
import { preflight } from './preflight.js';
import { CombinationRunner } from './runner.js';
import type { Scenario } from './scenario.js';
import { CpuPool } from './pool.js';
import { type TraceEvent, eventsHash, interleavingText, mergeEvents } from './trace.js';

export interface ReplayResult {
  spec: ReplaySpec;
  violations: ViolationReport[];
  /** The iteration's events, merged in step order. */
  events: TraceEvent[];
  /** The interleaving up to the first violation, one line per step. */
  interleaving: string[];
  /** sha256 of the event sequence: the same token gives the same hash. */
  hash: string;
}

export interface ReplayOptions {
  pool?: CpuPool;
  /** Find a scenario by the reference in the token (a registered name or a file): the caller's registry. */
  loadScenario: (ref: string) => Promise<Scenario>;
}

/**
 * Everything about a replay that can be wrong, checked before any thread
 * starts: the token, its scenario, the combination, and what the scenario
 * needs of the machine (the run's preflight).
 */
export async function checkReplay(token: string, o: Pick<ReplayOptions, 'loadScenario'>): Promise<{ spec: ReplaySpec; scenario: Scenario }> {
  const raw = decodeReplay(token);
  // A token minted under an old policy name (POLICY_ALIASES) replays under the new one.
  const spec = { ...raw, arch: canonicalPolicyName(raw.arch) };
  const scenario = await o.loadScenario(spec.scenario);
  const [combo] = checkCombinations(scenario, [{ arch: spec.arch, archOptions: spec.archOptions, hw: spec.hw, expect: null }]);
  preflight(scenario, [combo], spec.cpus);
  return { spec, scenario };
}

/** Re-run exactly the controlled iteration a token names, recording it. */
export async function replay(token: string, o: ReplayOptions): Promise<ReplayResult> {
  return replayChecked(await checkReplay(token, o), o.pool);
}

/** Re-run the iteration of a token checkReplay accepted. */
export async function replayChecked({ spec, scenario }: { spec: ReplaySpec; scenario: Scenario }, usePool?: CpuPool): Promise<ReplayResult> {
  const pool = usePool ?? new CpuPool();
  try {
    const runner = new CombinationRunner(scenario, spec, spec.cpus, pool, 'pct');
    await runner.bind();
    const out = await runner.iteration(spec.iteration, spec.seed, { record: true, depth: spec.depth, k: spec.k });
    const events = mergeEvents(out.events!);
    return {
      spec,
      violations: out.violations.records.map(describeViolation),
      events,
      interleaving: interleavingText(events),
      hash: eventsHash(events),
    };
  } finally {
    if (!usePool) await pool.close();
  }
}
