import type { ViolationReport } from './report.js';
import { describeViolation } from './report.js';
import { canonicalPolicyName } from '../kernel/index.js';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BadTokenError, decodeReplay, type ReplaySpec, scheduleOf } from './replay-token.js';
import { checkCombinations } from './combinations.js';
import { preflight } from './preflight.js';
import { CombinationRunner } from './runner.js';
import type { Scenario } from './scenario.js';
import { CpuPool } from './pool.js';
import { type TraceEvent, eventsHash, mergeEvents } from './trace.js';
import { fullText, storyText } from './story.js';

export interface ReplayResult {
  spec: ReplaySpec;
  violations: ViolationReport[];
  /** The iteration's events, merged in step order. */
  events: TraceEvent[];
  /** The interleaving up to the first violation, one line per event (`smpsim replay --full`). */
  interleaving: string[];
  /** The story of the first violation: kernel actions, IPIs, the violating CPU's accesses to the victim (story.ts). */
  story: string[];
  /** sha256 of the event sequence: the same token gives the same hash. */
  hash: string;
  /** The recorded events per CPU, as the trace writer takes them (not in the JSON output). */
  perCpu: number[][];
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
  // A file the token names by hash must be the file it was made from, before anything of it runs.
  if (spec.scenarioSha256) checkScenarioFile(spec.scenario, spec.scenarioSha256);
  const scenario = await o.loadScenario(spec.scenario);
  const [combo] = checkCombinations(scenario, [{ arch: spec.arch, archOptions: spec.archOptions, hw: spec.hw, expect: null }]);
  preflight(scenario, [combo], spec.cpus);
  return { spec, scenario };
}

/** A replay's scenario file is missing or not the one the token was made from. */
export class TokenScenarioError extends BadTokenError {
  constructor(message: string) {
    super(message);
    this.name = 'TokenScenarioError';
  }
}

/**
 * The scenario file a token names (relative to the working directory) must
 * be there with the bytes it had: a moved or edited file would replay
 * something else, silently.
 */
export function checkScenarioFile(path: string, sha256Prefix: string): void {
  const file = resolve(path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch {
    throw new TokenScenarioError(`the scenario file '${path}' this token names is not in ${process.cwd()} (a token names its file relative to the directory the run was made in: replay from there)`);
  }
  const now = createHash('sha256').update(bytes).digest('hex');
  if (!now.startsWith(sha256Prefix)) {
    throw new TokenScenarioError(`the scenario file '${path}' changed since the token was made (sha256 ${sha256Prefix} then, ${now.slice(0, sha256Prefix.length)} now): the token would replay something else; run the scenario again for a new token`);
  }
}

/** Re-run exactly the controlled iteration a token names, recording it. */
export async function replay(token: string, o: ReplayOptions): Promise<ReplayResult> {
  return replayChecked(await checkReplay(token, o), o.pool);
}

/** Re-run the iteration of a token checkReplay accepted. */
export async function replayChecked({ spec, scenario }: { spec: ReplaySpec; scenario: Scenario }, usePool?: CpuPool): Promise<ReplayResult> {
  const pool = usePool ?? new CpuPool();
  try {
    const runner = new CombinationRunner(scenario, spec, spec.cpus, pool, 'pct', spec.budget);
    await runner.bind();
    const out = await runner.iteration(spec.iteration, spec.seed, { record: true, schedule: scheduleOf(spec) });
    const events = mergeEvents(out.events!);
    const violations = out.violations.records.map(describeViolation);
    const m = runner.machine.config;
    return {
      spec,
      violations,
      events,
      interleaving: fullText(events, m),
      story: storyText(events, violations[0], m),
      hash: eventsHash(events),
      perCpu: out.events!,
    };
  } finally {
    if (!usePool) await pool.close();
  }
}
