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

/** Re-run exactly the controlled iteration a token names, recording it. */
export async function replay(token: string, o: ReplayOptions): Promise<ReplayResult> {
  const raw = decodeReplay(token);
  // A token minted under an old policy name (POLICY_ALIASES) replays under the new one.
  const spec = { ...raw, arch: canonicalPolicyName(raw.arch) };
  const scenario = await o.loadScenario(spec.scenario);
  // The same checks as a run's: the combination, then what the scenario needs of the machine (CPUs, workloads, setup).
  const [combo] = checkCombinations(scenario, [{ arch: spec.arch, archOptions: spec.archOptions, hw: spec.hw, expect: null }]);
  preflight(scenario, [combo], spec.cpus);
  const pool = o.pool ?? new CpuPool();
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
    if (!o.pool) await pool.close();
  }
}
