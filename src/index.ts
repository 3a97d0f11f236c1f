// smpsim as a library: the machine, the kernel model and the harness.
export * from './machine/index.js';
export * from './kernel/index.js';
export { CpuPool, CpuThreadDied } from './harness/pool.js';
export type { CpuTask, CpuTaskResult } from './harness/worker-host.js';
export type { ScriptCommand, ScriptResult } from './harness/script.js';
export type { ChurnArgs, ChurnResult } from './harness/selfcheck-roles.js';
export { defineScenario, archLabel, type Scenario, type Combination, type CoordinatorCommand, type HarnessCommand } from './harness/scenario.js';
export { runScenario, CombinationRunner, selectCombinations, iterationSeed, VERSION, type RunOptions, type IterationOutcome } from './harness/runner.js';
export type { RunReport, CombinationReport, ViolationReport, MachineTotals } from './harness/report.js';
export { replay, type ReplayResult, type ReplayOptions } from './harness/replay.js';
export { encodeReplay, decodeReplay, BadTokenError, type ReplaySpec } from './harness/replay-token.js';
export { toChromeTrace, interleavingText, mergeEvents, eventsHash } from './harness/trace.js';
export { SCENARIOS, findScenario, scenarioNames } from '../scenarios/index.js';
