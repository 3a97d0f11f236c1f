import { type KernelCommand, type KernelCommandResult, Kernel, type PolicyOptions, SYSCALL_NAMES, pointStep, runKernelScript } from '../../kernel/index.js';
import type { Cpu } from '../../machine/cpu.js';
import { C, H, K } from '../../machine/layout.js';
import { ring } from '../../machine/ipi.js';
import { waitForCpu } from '../../machine/locks.js';
import type { Machine } from '../../machine/machine.js';
import { Rng, cpuSeed } from '../../machine/rng.js';
import { runWorkload } from '../../machine/runloop.js';
import { doorbellSleep, waitUntil } from '../../machine/wait.js';
import { type Workload, compileWorkload } from '../../machine/workload.js';
import type { CoordinatorCommand, KernelPoint } from '../scenario.js';

export interface KernelRoleArgs {
  arch: string;
  archOptions?: PolicyOptions;
  batchCapacity?: number;
  tableBatchAlloc?: 'ok' | 'fails';
  /** Commands before the start barrier (CPU 0 only: create the mm, map, fault in). */
  setup: CoordinatorCommand[];
  script: CoordinatorCommand[];
  /** Threads at the start barrier (every CPU of the iteration). */
  parties: number;
  /** The CPUs that run kernel scripts this iteration (CPU 0 included): the iteration ends when all have finished. */
  kernelCpus: number[];
  /** The CPUs that run workloads (what waitSteps waits for). */
  workloadCpus: number[];
  /** After the script: take IPIs until the iteration ends, or run this workload until then. */
  then?: { workload: Workload; seed: number };
}

export interface KernelRoleResult {
  cpu: number;
  setup: KernelCommandResult[];
  script: KernelCommandResult[];
  /** Host ms of each kernel command of the racing script, in order. */
  hostMs: number[];
}

/**
 * A kernel CPU's role in a scenario iteration. CPU 0 runs the setup (before
 * the other CPUs start) and takes the start barrier itself; every kernel CPU
 * then runs its racing script on its own Kernel over the shared mm, marks
 * its script done (C.SCRIPT_DONE), and the last one to finish raises the
 * stop flag. Until then a finished kernel CPU keeps taking IPIs (another
 * kernel CPU's flush may be waiting for its acknowledgement), or runs its
 * workload.
 */
export function kernelRole(cpu: Cpu, machine: Machine, a: KernelRoleArgs): KernelRoleResult {
  const kernel = new Kernel(cpu, { policy: a.arch, policyOptions: a.archOptions, batchCapacity: a.batchCapacity, tableBatchAlloc: a.tableBatchAlloc });
  const holds = new Holds(cpu, machine, a.kernelCpus);
  const hostMs: number[] = [];
  const run = (cmds: CoordinatorCommand[], timed: boolean): KernelCommandResult[] => {
    const out: KernelCommandResult[] = [];
    for (const cmd of cmds) {
      if (cmd.op === 'waitSteps') waitSteps(cpu, machine, cmd.steps, a.workloadCpus);
      else if (cmd.op === 'spin') spin(cpu, cmd.steps);
      else if (cmd.op === 'waitPoint') holds.waitPoint(cmd.cpu, cmd.point);
      else if (cmd.op === 'holdPoint') holds.arm(cmd);
      else {
        const t0 = performance.now();
        out.push(...runKernelScript(kernel, machine, [cmd as KernelCommand]));
        if (timed) hostMs.push(performance.now() - t0);
      }
    }
    return out;
  };
  let finished = false;
  try {
    // Nothing races with the setup: no race window hands the core over in it (cores.ts).
    cpu.cores.windows = false;
    let setup: KernelCommandResult[];
    try {
      setup = run(a.setup, false);
    } finally {
      cpu.cores.windows = true;
    }
    if (cpu.id === 0) {
      // A gated stress run needs a host core from here on (cores.ts), the barrier included.
      cpu.cores.enter();
      machine.barrier(a.parties, undefined, cpu.gate);
      // A controlled run starts at the barrier: from here on, turns.
      cpu.gate.enter();
    }
    const script = run(a.script, true);
    cpu.onKernelPoint = null;
    finished = true;
    scriptDone(cpu, machine, a.kernelCpus.length);
    if (a.then) runWorkload(cpu, compileWorkload(a.then.workload, machine.config.speculation, machine.layout.vpnLimit), new Rng(cpuSeed(a.then.seed, cpu.id)));
    else idleUntilStop(cpu, machine);
    return { cpu: cpu.id, setup, script, hostMs };
  } finally {
    cpu.onKernelPoint = null;
    // A failed script ends the iteration for everyone (the worker host aborts the machine too).
    if (!finished) machine.requestStop();
  }
}

/** This CPU's script is over: mark it, and the last kernel CPU to finish ends the iteration. */
function scriptDone(cpu: Cpu, machine: Machine, kernels: number): void {
  const i32 = machine.i32;
  Atomics.store(i32, machine.layout.cpu(cpu.id, C.SCRIPT_DONE), 1);
  // Progress: a CPU holding or waiting for one of this CPU's points must look again.
  cpu.yieldPoint(true);
  // A CPU waiting for one of this CPU's points learns it never comes.
  for (let c = 0; c < machine.config.cpus; c++) if (c !== cpu.id) ring(i32, machine.layout, c);
  if (Atomics.add(i32, H.KERNEL_DONE, 1) + 1 >= kernels) machine.requestStop();
}

/** Take IPIs (a quiescent CPU in the idle loop) until the iteration's stop flag. */
function idleUntilStop(cpu: Cpu, machine: Machine): void {
  const i32 = machine.i32;
  const stopped = (): boolean => Atomics.load(i32, H.STOP) !== 0;
  const poll = (): boolean => cpu.pollIpis();
  waitUntil(i32, stopped, {
    spin: machine.layout.cfg.spinLimit,
    poll,
    sleep: doorbellSleep(i32, machine.layout, cpu.id, stopped, poll, 1),
    timeoutMs: 120_000,
    onTimeout: () => new Error(`CPU ${cpu.id} finished its script, but the other kernel CPUs did not finish theirs within 120 s`),
    gate: cpu.gate,
  });
}

/** A point as scripts name it: its step code and the syscall bits that count (all, or one call's). */
function parsePoint(p: KernelPoint): { step: number; mask: number; name: string } {
  const cut = p.lastIndexOf('/');
  const step = pointStep(cut < 0 ? p : p.slice(cut + 1));
  if (step < 0) throw new Error(`no kernel point '${p}'`);
  if (cut < 0) return { step, mask: -1, name: p };
  const sys = SYSCALL_NAMES.indexOf(p.slice(0, cut));
  if (sys <= 0) throw new Error(`no system call '${p.slice(0, cut)}' in kernel point '${p}'`);
  return { step, mask: 1 << sys, name: p };
}

interface Hold {
  step: number;
  mask: number;
  left: number;
  steps?: number;
  until?: { cpu: number; point: ReturnType<typeof parsePoint> };
}

/**
 * waitPoint and holdPoint: waits for another kernel CPU's points, and holds
 * armed on this CPU's own (run from Cpu.onKernelPoint, in the kernel code,
 * with whatever locks it holds there).
 */
class Holds {
  private readonly armed: Hold[] = [];
  constructor(
    private readonly cpu: Cpu,
    private readonly machine: Machine,
    private readonly kernels: number[],
  ) {}

  waitPoint(target: number, point: KernelPoint, mode: 'wait' | 'hold' = 'wait'): void {
    const p = parsePoint(point);
    const { i32, layout: L } = this.machine;
    const ended = (): boolean => !this.kernels.includes(target) || Atomics.load(i32, L.cpu(target, C.SCRIPT_DONE)) !== 0;
    waitForCpu(this.cpu, target, p, p.name, ended, mode);
  }

  arm(h: { point: KernelPoint; steps?: number; until?: { cpu: number; point: KernelPoint }; times?: number }): void {
    const p = parsePoint(h.point);
    this.armed.push({ step: p.step, mask: p.mask, left: h.times ?? 1, steps: h.steps, until: h.until && { cpu: h.until.cpu, point: parsePoint(h.until.point) } });
    this.cpu.onKernelPoint = (op) => this.at(op);
  }

  private at(op: number): void {
    const step = op & 0xff;
    const bit = 1 << ((op >>> 8) & 0x1f);
    for (const h of this.armed) {
      if (h.left === 0 || h.step !== step || (h.mask & bit) === 0) continue;
      h.left--;
      if (h.steps !== undefined) spin(this.cpu, h.steps);
      else if (h.until) {
        const u = h.until;
        this.waitPoint(u.cpu, u.point.name, 'hold');
      }
    }
  }
}

/**
 * Wait until every workload CPU has published at least `steps` steps, taking
 * IPIs meanwhile. Nobody rings for step counts, so the sleeps on the own
 * doorbell are short (0.1 ms): long enough to give the 2 host cores to the
 * CPUs being waited for. (Being rung the moment the counts are reached was
 * tried and reverted: the racing script then starts thousands of steps
 * earlier than it always has, with fewer TLB entries filled, and
 * arm-delayed-free's arm-2.6.37 at 2 CPUs fell from 95-100% of iterations
 * caught to 74-89%. The scenarios' counts were chosen with this wait.)
 */
export function waitSteps(cpu: Cpu, machine: Machine, steps: number, cpus?: readonly number[]): void {
  const L = machine.layout;
  const f64 = machine.views.f64;
  const who = cpus ?? Array.from({ length: L.cfg.cpus }, (_, c) => c);
  const reached = (): boolean => {
    for (const c of who) if (c !== cpu.id && f64[L.counter(c, K.stepNow)] < steps) return false;
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
