import type { Scenario } from 'smpsim';
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

let registry: readonly Scenario[] | undefined;

/**
 * The scenarios that ship with smpsim, in the order `smpsim list` shows them.
 *
 * A function, not a constant built when this module loads: the scenario files
 * import 'smpsim', whose entry re-exports this registry, so the modules form a
 * cycle. Entered at a scenario file ('smpsim/scenarios/arm-delayed-free'),
 * this module runs before that file's own body has defined its default
 * export; reading the imports only when asked keeps every entry point working.
 */
export function builtinScenarios(): readonly Scenario[] {
  registry ??= Object.freeze([armDelayedFree, speculativeTableWalk, shiftArgPages, gupFastVsTableFree, itlbExecPolicy, parallelMadvDontneed, nestedGatherFreedTables, rcuTableFreeFallback, invlpgbGupFast, mremapVsTruncate, lazyTlbTableFree, khugepagedVsGupFast]);
  return registry;
}

export function scenarioNames(): string[] {
  return builtinScenarios().map((s) => s.name);
}

export function findScenario(name: string): Scenario | undefined {
  return builtinScenarios().find((s) => s.name === name);
}
