// smpsim's internals, for tools built on the machine and the kernel model
// (`import … from 'smpsim/internals'`): the simulated machine, the kernel
// model, the worker pool and the per-combination runner. Unlike the user API
// (src/index.ts) these may change between minor versions.
export * from './machine/index.js';
export * from './kernel/index.js';
export { CpuPool, CpuThreadDied } from './harness/pool.js';
export type { CpuTask, CpuTaskResult } from './harness/thread/worker-host.js';
export type { ScriptCommand, ScriptResult } from './harness/thread/script.js';
export type { ChurnArgs, ChurnResult } from './harness/thread/selfcheck-roles.js';
export { CombinationRunner, iterationSeed, type IterationOutcome } from './harness/runner.js';
export { CombinationExecution } from './harness/run-execution.js';
export { toChromeTrace, interleavingText, mergeEvents, eventsHash, writeTrace } from './harness/trace.js';
export { checkTrace, TRACE_RULES } from './harness/trace-check.js';
export { reportCsv } from './harness/report-csv.js';
