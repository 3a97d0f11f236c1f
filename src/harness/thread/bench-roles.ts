import { type KernelCommand, type KernelCommandResult, Kernel, type PolicyOptions, runKernelScript } from '../../kernel/index.js';
import { Access, FlushKind, Which } from '../../machine/constants.js';
import type { Cpu } from '../../machine/cpu.js';
import { H } from '../../machine/layout.js';
import type { Machine } from '../../machine/machine.js';
import { waitOnDoorbell } from '../../machine/wait.js';
import { registerRole } from './roles.js';

/**
 * CPU roles of the measurements in src/harness/bench. Registered on import
 * (builtin-roles.ts imports this module in every CPU thread).
 */

/** Scratch word the probe roles hand the turn over with. */
const PROBE_FLAG = H.SCRATCH + 4;

/**
 * Wait (taking IPIs, passing quiescence points) until `ready()`; throws after
 * `timeoutMs`. Nobody rings for these conditions (scratch flags, cpumasks), so
 * the sleeps on the own doorbell are short.
 */
function waitFor(cpu: Cpu, machine: Machine, ready: () => boolean, what: string, timeoutMs = 30_000): void {
  const poll = (): boolean => {
    const took = cpu.pollIpis();
    cpu.boundary();
    return took;
  };
  waitOnDoorbell(machine.i32, machine.layout, cpu.id, ready, poll, timeoutMs, () => new Error(`${what}: not within ${timeoutMs / 1000} s`), cpu.gate, 0.1);
}

/** Every CPU of the machine has loaded `asid` (its cpumask is full). */
function waitAllLoaded(cpu: Cpu, machine: Machine, asid: number): void {
  const full = machine.config.cpus >= 32 ? -1 : (1 << machine.config.cpus) - 1;
  waitFor(cpu, machine, () => machine.cpumask(asid) === full, `not every CPU loaded address space ${asid}`);
}

export interface ShootdownSenderArgs {
  asid: number;
  samples: number;
  warmup: number;
  /** Stop sampling after this long (ms), once `minSamples` are taken. */
  budgetMs: number;
  minSamples: number;
}

export interface ShootdownSenderResult {
  /** ns per shootdown. */
  latencies: number[];
  /** Wall time of the measured shootdowns, back to back (ms). */
  elapsedMs: number;
}

/**
 * One-page shootdowns of an address nobody uses, to every CPU of the mm
 * (by IPI or broadcast, as the machine flushes), back to back, once every CPU
 * runs the mm. Each sample is flush_tlb_range's whole latency: the local
 * invalidate, the remote ones, and the wait for every acknowledgement.
 */
export function shootdownSender(cpu: Cpu, machine: Machine, a: ShootdownSenderArgs): ShootdownSenderResult {
  try {
    cpu.switchMm(a.asid);
    waitAllLoaded(cpu, machine, a.asid);
    const limit = machine.layout.vpnLimit;
    const r = { kind: FlushKind.RANGE, asid: a.asid, start: limit - 1, end: limit, which: Which.DTLB };
    // Warm-up: `warmup` shootdowns, or a quarter of the budget, whichever ends first.
    const tWarm = performance.now();
    for (let i = 0; i < a.warmup && (i === 0 || performance.now() - tWarm < a.budgetMs / 4); i++) cpu.flush(r, machine.cpumask(a.asid));
    const out: number[] = [];
    const tStart = performance.now();
    for (let i = 0; i < a.samples; i++) {
      const t0 = performance.now();
      cpu.flush(r, machine.cpumask(a.asid));
      const t1 = performance.now();
      out.push((t1 - t0) * 1e6);
      if (out.length >= a.minSamples && t1 - tStart > a.budgetMs) break;
    }
    return { latencies: out, elapsedMs: performance.now() - tStart };
  } finally {
    machine.requestStop();
  }
}

export interface MunmapTouchArgs {
  arch: string;
  archOptions?: PolicyOptions;
  asid: number;
  start: number;
  pages: number;
  /** Operations at most (alternately munmap+mmap+touch and madvise(DONTNEED)+touch). */
  ops: number;
  budgetMs: number;
  minOps: number;
  /** Unmeasured operations first (JIT warm-up). */
  warmup?: number;
}

export interface MunmapTouchResult {
  /** ns per munmap + mmap + touch of every page. */
  munmap: number[];
  /** ns per madvise(DONTNEED) + touch of every page. */
  madvise: number[];
  elapsedMs: number;
}

/**
 * The stress-ng tlb-shootdown shape on CPU 0: the other CPUs touch the
 * region; CPU 0 alternately munmaps it and maps it again, and drops it with
 * madvise(DONTNEED), touching every page after each (fault in, then a store
 * through the TLB). Address space `asid` must exist (created by the host).
 */
export function munmapTouch(cpu: Cpu, machine: Machine, a: MunmapTouchArgs): MunmapTouchResult {
  try {
    const kernel = new Kernel(cpu, { policy: a.arch, policyOptions: a.archOptions });
    const mm = kernel.attachMm(a.asid, []);
    cpu.switchMm(a.asid);
    const end = a.start + a.pages;
    const touch = (): void => {
      kernel.faultIn(mm, a.start, end);
      for (let v = a.start; v < end; v++) cpu.access(Access.STORE, v, 0, v);
    };
    kernel.mmap(mm, a.start, a.pages, { write: true });
    touch();
    waitAllLoaded(cpu, machine, a.asid);
    const tWarm = performance.now();
    for (let i = 0; i < (a.warmup ?? 0) && (i === 0 || performance.now() - tWarm < a.budgetMs / 4); i++) {
      kernel.madviseDontneed(mm, a.start, end);
      touch();
    }
    const munmap: number[] = [];
    const madvise: number[] = [];
    const tStart = performance.now();
    for (let i = 0; i < a.ops; i++) {
      const t0 = performance.now();
      if (i % 2 === 0) {
        kernel.munmap(mm, a.start, end);
        kernel.mmap(mm, a.start, a.pages, { write: true });
        touch();
        munmap.push((performance.now() - t0) * 1e6);
      } else {
        kernel.madviseDontneed(mm, a.start, end);
        touch();
        madvise.push((performance.now() - t0) * 1e6);
      }
      if (i + 1 >= a.minOps && performance.now() - tStart > a.budgetMs) break;
    }
    return { munmap, madvise, elapsedMs: performance.now() - tStart };
  } finally {
    machine.requestStop();
  }
}

export interface ProbeKernelArgs {
  arch: string;
  archOptions?: PolicyOptions;
  batchCapacity?: number;
  setup: KernelCommand[];
  script: KernelCommand[];
  parties: number;
}

/**
 * A deterministic two-CPU probe, kernel side: setup, start barrier, wait for
 * the user CPU to fill its TLBs (flag 1), run the script, let the user CPU
 * touch again (flag 2) and wait for it to finish (flag 3).
 */
export function probeKernel(cpu: Cpu, machine: Machine, a: ProbeKernelArgs): { setup: KernelCommandResult[]; script: KernelCommandResult[] } {
  const i32 = machine.i32;
  try {
    const kernel = new Kernel(cpu, { policy: a.arch, policyOptions: a.archOptions, batchCapacity: a.batchCapacity });
    const setup = runKernelScript(kernel, machine, a.setup, { keepTrace: true });
    machine.barrier(a.parties);
    waitFor(cpu, machine, () => Atomics.load(i32, PROBE_FLAG) >= 1, 'probe: the user CPU did not touch its pages');
    const script = runKernelScript(kernel, machine, a.script, { keepTrace: true });
    Atomics.store(i32, PROBE_FLAG, 2);
    waitFor(cpu, machine, () => Atomics.load(i32, PROBE_FLAG) >= 3, 'probe: the user CPU did not touch its pages again');
    return { setup, script };
  } finally {
    machine.requestStop();
  }
}

export interface ProbeTouch {
  type: 'load' | 'store' | 'fetch';
  vpn: number;
}

const ACCESS = { load: Access.LOAD, store: Access.STORE, fetch: Access.FETCH } as const;

/**
 * The user side of the probe: load `asid`, make the `before` accesses, hand
 * over (flag 1), take IPIs and pass quiescence points until the kernel side
 * is done (flag 2), make the `after` accesses (flag 3), then serve IPIs until
 * the stop. Returns the access results (AccessResult codes).
 */
export function probeUser(cpu: Cpu, machine: Machine, a: { asid: number; before: ProbeTouch[]; after: ProbeTouch[] }): { before: number[]; after: number[] } {
  const i32 = machine.i32;
  cpu.switchMm(a.asid);
  cpu.resume();
  const touch = (ts: ProbeTouch[]): number[] =>
    ts.map((t) => {
      cpu.step++;
      return cpu.access(ACCESS[t.type], t.vpn, 0, 1);
    });
  const before = touch(a.before);
  Atomics.store(i32, PROBE_FLAG, 1);
  waitFor(cpu, machine, () => Atomics.load(i32, PROBE_FLAG) >= 2, 'probe: the kernel CPU did not run its script');
  const after = touch(a.after);
  Atomics.store(i32, PROBE_FLAG, 3);
  waitFor(cpu, machine, () => machine.stopRequested(), 'probe: the kernel CPU did not stop');
  cpu.quiesce();
  return { before, after };
}

registerRole('shootdownSender', (cpu, machine, args: ShootdownSenderArgs) => shootdownSender(cpu, machine, args));
registerRole('munmapTouch', (cpu, machine, args: MunmapTouchArgs) => munmapTouch(cpu, machine, args));
registerRole('probeKernel', (cpu, machine, args: ProbeKernelArgs) => probeKernel(cpu, machine, args));
registerRole('probeUser', (cpu, machine, args) => probeUser(cpu, machine, args));
