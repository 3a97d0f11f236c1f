import { FlushKind, FrameKind, PTE_FRAME_MASK, Pte, Which } from '../../machine/constants.js';
import type { Cpu } from '../../machine/cpu.js';
import type { Machine } from '../../machine/machine.js';
import { Rng, cpuSeed } from '../../machine/rng.js';
import { K } from '../../machine/layout.js';
import { waitSteps } from './kernel-role.js';

/**
 * Machine-level initiator roles for the self-check and the machine's tests:
 * no kernel model, just the three steps of the invariant in a chosen order.
 */

export interface ChurnArgs {
  asid: number;
  /** The mapped range the other CPUs access. */
  start: number;
  pages: number;
  rounds: number;
  /** Pages unmapped and remapped per round. */
  batch: number;
  /** The correct order, or the two broken ones (for showing the checker works). */
  order: 'flush-then-free' | 'free-then-flush' | 'free-no-flush';
  seed: number;
  /** Raise the machine's stop flag when done (default true). */
  stop?: boolean;
  /**
   * Steps every other CPU must have run before the first round, and again
   * after the last one before the stop (default 500): so that they hold
   * translations to take away, and get to use any that survived.
   */
  settleSteps?: number;
}

export interface ChurnResult {
  pagesFreed: number;
  flushes: number;
}

/**
 * Repeatedly take `batch` pages away from address space `asid` (clear PTEs,
 * invalidate, free: in `order`) and map fresh frames in their place, so that
 * the other CPUs keep finding mapped pages while freed frames are reused at
 * once (the allocator is LIFO by default).
 */
export function churn(cpu: Cpu, machine: Machine, a: ChurnArgs): ChurnResult {
  const rng = new Rng(cpuSeed(a.seed, cpu.id));
  const frames: number[] = [];
  let pagesFreed = 0;
  let flushes = 0;
  const flags = Pte.WRITE;
  const settle = a.settleSteps ?? 500;
  const stepsOf = (c: number): number => machine.views.f64[machine.layout.counter(c, K.stepNow)];
  waitSteps(cpu, machine, settle);
  for (let r = 0; r < a.rounds && !machine.aborted(); r++) {
    const v0 = a.start + rng.below(Math.max(1, a.pages - a.batch + 1));
    const v1 = Math.min(a.start + a.pages, v0 + a.batch);
    frames.length = 0;
    for (let v = v0; v < v1; v++) {
      const old = cpu.pt.unmap(a.asid, v);
      if (old & Pte.PRESENT) frames.push(old & PTE_FRAME_MASK);
    }
    const free = (): void => {
      for (const f of frames) cpu.freeFrame(f);
      pagesFreed += frames.length;
    };
    const remap = (): void => {
      for (let v = v0; v < v1; v++) {
        const f = cpu.alloc.alloc(FrameKind.DATA, a.asid);
        if (f < 0) throw new Error('churn: out of frames');
        cpu.pt.map(a.asid, v, f, flags);
      }
    };
    if (a.order === 'flush-then-free') {
      cpu.flush({ kind: FlushKind.RANGE, asid: a.asid, start: v0, end: v1, which: Which.DTLB }, machine.cpumask(a.asid));
      flushes++;
      free();
      remap();
    } else {
      // Broken orders: the frames are reused while translations to them live.
      free();
      remap();
      if (a.order === 'free-then-flush') {
        cpu.flush({ kind: FlushKind.RANGE, asid: a.asid, start: v0, end: v1, which: Which.DTLB }, machine.cpumask(a.asid));
        flushes++;
      }
    }
  }
  // Let every other CPU run `settle` more steps before the stop.
  let most = 0;
  for (let c = 0; c < machine.config.cpus; c++) if (c !== cpu.id) most = Math.max(most, stepsOf(c));
  waitSteps(cpu, machine, most + settle);
  if (a.stop ?? true) machine.requestStop();
  return { pagesFreed, flushes };
}

export interface AllocStressArgs {
  ops: number;
  seed: number;
  /** At most this many frames held at once. */
  hold: number;
}

/** Random allocations and frees; returns the frames still held at the end. */
export function allocStress(cpu: Cpu, machine: Machine, a: AllocStressArgs): { held: number[]; allocs: number; frees: number; failed: number } {
  const rng = new Rng(cpuSeed(a.seed, cpu.id));
  const held: number[] = [];
  let allocs = 0;
  let frees = 0;
  let failed = 0;
  for (let i = 0; i < a.ops; i++) {
    if (held.length < a.hold && (held.length === 0 || rng.below(2) === 0)) {
      const f = cpu.alloc.alloc(FrameKind.DATA, cpu.id);
      if (f < 0) failed++;
      else {
        held.push(f);
        allocs++;
      }
    } else {
      const k = rng.below(held.length);
      const f = held[k];
      held[k] = held[held.length - 1];
      held.pop();
      cpu.alloc.put(f, cpu.id, 0, 0);
      frees++;
    }
  }
  return { held, allocs, frees, failed };
}

export interface InvalidateRaceArgs {
  asid: number;
  start: number;
  pages: number;
  rounds: number;
  /** Instruction boundaries to let the other CPUs fill before each teardown. */
  settle: number;
  seed: number;
}

/**
 * Map a range, let the other CPUs fill their TLBs from it, then clear the
 * PTEs and flush while they keep trying to fill, and look for survivors: any
 * cached translation of the range once the flush has returned is a fill that
 * raced the invalidation and outlived it. Frees the frames after the look.
 */
export function invalidateRace(cpu: Cpu, machine: Machine, a: InvalidateRaceArgs): { survivors: number; rounds: number } {
  let survivors = 0;
  const end = a.start + a.pages;
  let r = 0;
  for (; r < a.rounds && !machine.aborted(); r++) {
    for (let v = a.start; v < end; v++) {
      const f = cpu.alloc.alloc(FrameKind.DATA, a.asid);
      if (f < 0) throw new Error('invalidateRace: out of frames');
      cpu.pt.map(a.asid, v, f, Pte.WRITE);
    }
    for (let i = 0; i < a.settle; i++) cpu.pollIpis();
    const frames: number[] = [];
    for (let v = a.start; v < end; v++) frames.push(cpu.pt.unmap(a.asid, v) & PTE_FRAME_MASK);
    cpu.flush({ kind: FlushKind.RANGE, asid: a.asid, start: a.start, end, which: Which.DTLB | Which.ITLB }, machine.cpumask(a.asid));
    for (let c = 0; c < machine.config.cpus; c++) {
      for (const e of machine.caches(c)) {
        if ((e.cache === 'dtlb' || e.cache === 'itlb') && e.asid === a.asid && e.vpn >= a.start && e.vpn < end) survivors++;
      }
    }
    for (const f of frames) cpu.freeFrame(f);
  }
  machine.requestStop();
  return { survivors, rounds: r };
}
