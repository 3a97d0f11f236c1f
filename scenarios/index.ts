import type { Scenario } from '../src/harness/scenario.js';
import armDelayedFree from './arm-delayed-free.js';
import gupFastVsTableFree from './gup-fast-vs-table-free.js';
import invlpgbGupFast from './invlpgb-gup-fast.js';
import itlbExecPolicy from './itlb-exec-policy.js';
import khugepagedVsGupFast from './khugepaged-vs-gup-fast.js';
import lazyTlbTableFree from './lazy-tlb-table-free.js';
import mremapVsTruncate from './mremap-vs-truncate.js';
import nestedGatherFreedTables from './nested-gather-freed-tables.js';
import parallelMadvDontneed from './parallel-madv-dontneed.js';
import rcuTableFreeFallback from './rcu-table-free-fallback.js';
import shiftArgPages from './shift-arg-pages.js';
import speculativeTableWalk from './speculative-table-walk.js';

/** The scenarios that ship with smpsim, by name. */
export const SCENARIOS: readonly Scenario[] = [armDelayedFree, speculativeTableWalk, shiftArgPages, gupFastVsTableFree, itlbExecPolicy, parallelMadvDontneed, nestedGatherFreedTables, rcuTableFreeFallback, invlpgbGupFast, mremapVsTruncate, lazyTlbTableFree, khugepagedVsGupFast];

export function scenarioNames(): string[] {
  return SCENARIOS.map((s) => s.name);
}

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
