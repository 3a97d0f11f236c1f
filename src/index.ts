export * from './machine/index.js';
export { CpuPool } from './harness/pool.js';
export type { CpuTask, CpuTaskResult } from './harness/worker-host.js';
export type { ScriptCommand, ScriptResult } from './harness/script.js';
export type { ChurnArgs, ChurnResult } from './harness/selfcheck-roles.js';
