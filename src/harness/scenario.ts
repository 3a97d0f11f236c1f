import { type KernelCommand, type PolicyOptions, gupFastOf } from '../kernel/index.js';
import { type MachineConfig, resolveConfig } from '../machine/config.js';
import { FLAVOURS } from '../machine/flavours.js';
import type { Workload } from '../machine/workload.js';

/**
 * Harness commands a coordinator script may hold besides kernel commands:
 * `waitSteps` waits until every other CPU has executed at least `steps`
 * steps in this iteration (so their TLBs are warm before the syscall);
 * `spin` executes `steps` empty instruction boundaries on the coordinator.
 */
export type HarnessCommand = { op: 'waitSteps'; steps: number } | { op: 'spin'; steps: number };
export type CoordinatorCommand = KernelCommand | HarnessCommand;

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
 * (CPU 0), the workload of every other CPU, and the combinations it runs on
 * with their expected outcome. The expectation is checked against runs,
 * never used to produce them.
 */
export interface Scenario {
  name: string;
  title: string;
  /** What races, and what the checker sees. */
  description: string;
  /** Section of the domain notes it models. */
  domain?: string;
  /** CPUs, the coordinator included (default 4). */
  cpus?: number;
  /** Machine overrides on top of the hardware flavour. */
  machine?: Partial<MachineConfig>;
  /** mmu_gather batch capacity (default 500, as in 2011). */
  batchCapacity?: number;
  /** Coordinator commands before the start barrier: create the mm, map, fault in. */
  setup: CoordinatorCommand[];
  /** Coordinator commands after the barrier, racing the other CPUs. */
  script: CoordinatorCommand[];
  /** Workload of CPU `cpu` (1..cpus-1). */
  workload: (cpu: number, cpus: number) => Workload;
  combinations: Combination[];
  /** Default stress iterations per combination. */
  iterations?: number;
  /** A cost scenario: report costs; violations still count. */
  cost?: boolean;
}

export function defineScenario(s: Scenario): Scenario {
  return s;
}

/** "arm-2.6.38" or "generic-range --itlb always": how a combination prints. */
export function archLabel(c: { arch: string; archOptions?: PolicyOptions }): string {
  const o = c.archOptions ?? {};
  return [c.arch, ...Object.entries(o).map(([k, v]) => `--${k} ${String(v)}`)].join(' ');
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

