// smpsim's user API: declare a scenario, run it, replay what it found.
// The machine and the kernel model are in 'smpsim/internals'; vitest helpers
// in 'smpsim/testing'.
import { type ReplayOptions, type ReplayResult, replay as replayWith } from './harness/replay.js';
import type { Scenario } from './harness/scenario.js';

export { defineScenario, archLabel, type Scenario, type Combination, type CoordinatorCommand, type HarnessCommand, type KernelCpu, type KernelPoint } from './harness/scenario.js';
export type { Workload, OpMix } from './machine/workload.js';
export type { MachineConfig } from './machine/config.js';
export type { KernelCommand, PolicyOptions } from './kernel/index.js';
export { policyNames } from './kernel/index.js';
export { flavourNames } from './machine/flavours.js';
export { selectCombinations, type ArchChoice } from './harness/combinations.js';
export { runScenario, VERSION, type RunOptions } from './harness/runner.js';
export type { RunReport, CombinationReport, ViolationReport, KindReport, MergeInfo, MachineTotals } from './harness/report.js';
export type { Shard } from './harness/shard.js';
export { mergeReports, asRunReport, MergeError, type NamedReport, type MergeResult } from './harness/merge.js';
export { encodeReplay, decodeReplay, BadTokenError, type ReplaySpec } from './harness/replay-token.js';
export { shrinkReplay, type ShrinkOptions, type ShrinkResult } from './harness/shrink.js';
export type { ReplayResult } from './harness/replay.js';

// Last, on purpose: the shipped scenarios import 'smpsim' (this module), so the
// registry and this module form a cycle. Every export above must be bound
// before a scenario file's body runs and calls defineScenario; under Node's
// ESM that follows from the import order, and vitest's module runner binds a
// re-export only when it reaches its line.
import { findScenario, scenarioNames } from '../scenarios/index.js';
export { builtinScenarios, findScenario, scenarioNames } from '../scenarios/index.js';

async function builtinScenario(ref: string): Promise<Scenario> {
  const s = findScenario(ref);
  if (!s) throw new Error(`replay token names scenario '${ref}', which is not a built-in one (known: ${scenarioNames().join(', ')}); pass loadScenario`);
  return s;
}

/** Re-run exactly the controlled iteration a replay token names (built-in scenarios unless loadScenario is given). */
export function replay(token: string, o: Partial<ReplayOptions> = {}): Promise<ReplayResult> {
  return replayWith(token, { ...o, loadScenario: o.loadScenario ?? builtinScenario });
}
