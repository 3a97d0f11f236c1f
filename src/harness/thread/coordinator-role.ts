import { type KernelCommand, type KernelCommandResult, Kernel, type PolicyOptions, runKernelScript } from '../../kernel/index.js';
import type { Cpu } from '../../machine/cpu.js';
import { K } from '../../machine/layout.js';
import type { Machine } from '../../machine/machine.js';
import { doorbellSleep, waitUntil } from '../../machine/wait.js';
import type { CoordinatorCommand } from '../scenario.js';

export interface CoordinatorArgs {
  arch: string;
  archOptions?: PolicyOptions;
  batchCapacity?: number;
  setup: CoordinatorCommand[];
  script: CoordinatorCommand[];
  /** Threads at the start barrier (every CPU of the iteration). */
  parties: number;
}

export interface CoordinatorResult {
  setup: KernelCommandResult[];
  script: KernelCommandResult[];
  /** Host ms of each kernel command of the racing script, in order. */
  hostMs: number[];
}

/**
 * CPU 0's role in a scenario iteration: the kernel side. Runs the setup
 * (before the other CPUs start), meets them at the start barrier, runs the
 * racing script, then raises the stop flag.
 */
export function coordinator(cpu: Cpu, machine: Machine, a: CoordinatorArgs): CoordinatorResult {
  const kernel = new Kernel(cpu, { policy: a.arch, policyOptions: a.archOptions, batchCapacity: a.batchCapacity });
  const hostMs: number[] = [];
  const run = (cmds: CoordinatorCommand[], timed: boolean): KernelCommandResult[] => {
    const out: KernelCommandResult[] = [];
    for (const cmd of cmds) {
      if (cmd.op === 'waitSteps') waitSteps(cpu, machine, cmd.steps);
      else if (cmd.op === 'spin') spin(cpu, cmd.steps);
      else {
        const t0 = performance.now();
        out.push(...runKernelScript(kernel, machine, [cmd as KernelCommand]));
        if (timed) hostMs.push(performance.now() - t0);
      }
    }
    return out;
  };
  try {
    const setup = run(a.setup, false);
    machine.barrier(a.parties);
    // A controlled run starts at the barrier: from here on, turns.
    cpu.gate.enter();
    const script = run(a.script, true);
    return { setup, script, hostMs };
  } finally {
    machine.requestStop();
  }
}

/**
 * Wait until every other CPU has published at least `steps` steps, taking
 * IPIs meanwhile. Nobody rings for step counts, so the sleeps on the own
 * doorbell are short (0.1 ms): long enough to give the 2 host cores to the
 * CPUs being waited for.
 */
export function waitSteps(cpu: Cpu, machine: Machine, steps: number): void {
  const L = machine.layout;
  const f64 = machine.views.f64;
  const reached = (): boolean => {
    for (let c = 0; c < L.cfg.cpus; c++) if (c !== cpu.id && f64[L.counter(c, K.stepNow)] < steps) return false;
    return true;
  };
  const poll = (): boolean => cpu.pollIpis();
  waitUntil(machine.i32, reached, {
    spin: L.cfg.spinLimit,
    poll,
    sleep: doorbellSleep(machine.i32, L, cpu.id, reached, poll, 0.1),
    timeoutMs: 30_000,
    onTimeout: () => new Error(`CPUs did not reach ${steps} steps within 30 s`),
    gate: cpu.gate,
    // Check, then take IPIs, then the yield point: the order this wait always had.
    checkFirst: true,
  });
}

function spin(cpu: Cpu, steps: number): void {
  for (let i = 0; i < steps; i++) {
    cpu.step++;
    cpu.pollIpis();
    cpu.yieldPoint(true);
  }
}
