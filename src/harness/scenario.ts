import { type KernelCommand, type PolicyOptions, gupFastOf } from '../kernel/index.js';
import { type MachineConfig, resolveConfig } from '../machine/config.js';
import { FLAVOURS } from '../machine/flavours.js';
import type { Workload } from '../machine/workload.js';

/**
 * A kernel point (kernel/ops.ts KERNEL_POINTS): a step name such as
 * 'tlb_end_vma', reached in any system call, or 'SYSCALL/STEP' such as
 * 'madvise(DONTNEED)/tlb_end_vma', reached in that call only.
 */
export type KernelPoint = string;

/**
 * Harness commands a kernel script may hold besides kernel commands. None
 * changes the order of the kernel code; they only place it in time:
 *  - `waitSteps`: wait until every workload CPU has executed at least `steps`
 *    steps in this iteration (so their TLBs are warm before the syscall);
 *  - `spin`: execute `steps` empty instruction boundaries (taking IPIs);
 *  - `waitPoint`: wait until kernel CPU `cpu` has reached `point` in this
 *    iteration (taking IPIs);
 *  - `holdPoint`: arm a hold: the next `times` (default 1) times this CPU's
 *    kernel reaches `point`, it stays there (taking IPIs, holding whatever
 *    locks the code holds there) for `steps` steps, or until kernel CPU
 *    `until.cpu` has reached `until.point`. That widens a race window in
 *    stress mode as a stalled CPU would. A hold only delays: if the other
 *    CPU cannot reach its point (it waits for a lock this CPU holds, or its
 *    script ended), the hold ends and the kernel code goes on, so a scenario
 *    written for one kernel's locking still runs on another's.
 */
export type HarnessCommand =
  | { op: 'waitSteps'; steps: number }
  | { op: 'spin'; steps: number }
  | { op: 'waitPoint'; cpu: number; point: KernelPoint }
  | { op: 'holdPoint'; point: KernelPoint; steps?: number; until?: { cpu: number; point: KernelPoint }; times?: number };
export type CoordinatorCommand = KernelCommand | HarnessCommand;

/**
 * A CPU besides CPU 0 that runs kernel code: its script (after the start
 * barrier, racing everyone), then `then`: 'idle' (the default: take IPIs
 * until the iteration ends) or 'workload' (its workload, until the end).
 * The iteration ends when every kernel CPU has finished its script.
 */
export interface KernelCpu {
  cpu: number;
  script: CoordinatorCommand[];
  then?: 'idle' | 'workload';
}

/** One combination of architecture policy and hardware a scenario runs on, and what it expects. */
export interface Combination {
  arch: string;
  archOptions?: PolicyOptions;
  hw: string;
  /** caught: some iteration must show a violation; clean: none may; null: no expectation, report only. */
  expect: 'caught' | 'clean' | null;
}

/**
 * A race scenario, declared: the machine, the coordinator's kernel script
 * (CPU 0), other CPUs' kernel scripts, the workload of every other CPU, and the combinations it runs on
 * with their expected outcome. The expectation is checked against runs,
 * never used to produce them.
 */
export interface Scenario {
  name: string;
  title: string;
  /** What races, and what the checker sees. */
  description: string;
  /** Section of docs/domain.md it models. */
  domain?: string;
  /** CPUs, the coordinator included (default 4). */
  cpus?: number;
  /** Machine overrides on top of the hardware flavour. */
  machine?: Partial<MachineConfig>;
  /** mmu_gather batch capacity (default 500, as in 2011). */
  batchCapacity?: number;
  /**
   * Whether tlb_remove_table can allocate the page for its table batch
   * (default 'ok'); 'fails' models memory pressure: every table goes down
   * the kernel's fallback path (linux-6 option tableFallback says which).
   * Policies without a table batch ignore it.
   */
  tableBatchAlloc?: 'ok' | 'fails';
  /** Coordinator commands before the start barrier: create the mm, map, fault in. */
  setup: CoordinatorCommand[];
  /** Coordinator commands after the barrier, racing the other CPUs. */
  script: CoordinatorCommand[];
  /**
   * Other CPUs that run kernel code on the same machine (and, through the
   * shared mm, on the same address spaces): any CPU but 0, each at most once.
   * Default: none (CPU 0 is the only kernel CPU).
   */
  kernelCpus?: KernelCpu[];
  /** Workload of CPU `cpu` (every CPU that is not a kernel CPU, and kernel CPUs whose `then` is 'workload'). */
  workload: (cpu: number, cpus: number) => Workload;
  combinations: Combination[];
  /**
   * The soak's knob sweep expects every caught combination to stay caught
   * under every knob (src/harness/soak.ts). Where the kernel's own logic
   * closes the race under some knob (a batch so small that every removed
   * page is flushed at once; a table-batch fallback that frees tables before
   * the racing point), say so here: return why, and the sweep does not expect
   * that caught combination to be caught there (it still runs the clean ones).
   */
  sweepExempt?: (k: { batchCapacity: number; tableBatchAlloc: 'ok' | 'fails' }, c: Combination) => string | null;
  /** Default stress iterations per combination. */
  iterations?: number;
  /** A cost scenario: report costs; violations still count. */
  cost?: boolean;
}

export function defineScenario(s: Scenario): Scenario {
  return s;
}

/**
 * "arm-2.6.38" or "generic-range:itlb=always": how a combination prints, in
 * the form `--arch` takes, so that a label from a report can be given back.
 */
export function archLabel(c: { arch: string; archOptions?: PolicyOptions }): string {
  const o = c.archOptions ?? {};
  return [c.arch, ...Object.entries(o).map(([k, v]) => `${k}=${String(v)}`)].join(':');
}

/**
 * The machine a scenario runs on for a combination: the hardware flavour,
 * then the scenario's overrides, then what belongs to the kernel, not to the
 * hardware (how the policy's gup_fast takes references), which a scenario
 * cannot override: a knob that made a correct kernel run code it never had
 * would be a false positive waiting to happen.
 */
export function machineConfigFor(s: Scenario, c: { arch: string; archOptions?: PolicyOptions; hw: string }, cpus: number): MachineConfig {
  const gupFast = gupFastOf(c.arch, c.archOptions) ?? 'irq-off';
  return resolveConfig({ ...FLAVOURS[c.hw].config, ...s.machine, cpus, gupFast });
}


/** The kernel CPUs of a scenario: CPU 0 and its kernelCpus, in CPU order. */
export function kernelCpuIds(s: Pick<Scenario, 'kernelCpus'>): number[] {
  return [0, ...(s.kernelCpus ?? []).map((k) => k.cpu)].sort((a, b) => a - b);
}

/** Whether CPU `cpu` of `s` runs a workload (at all, or after its kernel script). */
export function runsWorkload(s: Pick<Scenario, 'kernelCpus'>, cpu: number): boolean {
  if (cpu === 0) return false;
  const k = s.kernelCpus?.find((x) => x.cpu === cpu);
  return !k || k.then === 'workload';
}
