import { FlushKind, FrameKind, PTE_FRAME_MASK, Pte, Which } from '../../machine/constants.js';
import type { Cpu } from '../../machine/cpu.js';
import type { Machine } from '../../machine/machine.js';
import { Rng, cpuSeed } from '../../machine/rng.js';
import { A, C, H, K } from '../../machine/layout.js';
import { downgradeWrite, mmapLockWord, ptLockWord, ptlWord, readLock, readUnlock, spinLock, spinUnlock, writeLock, writeUnlock } from '../../machine/locks.js';
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

/**
 * The scratch words (H.SCRATCH + k) lockStress shares between its CPUs; the
 * machine's reset clears them.
 */
export const LOCK_STRESS = {
  /** Incremented by every exclusive section with a plain load, pauses, a plain store. */
  COUNTER: 0,
  /** Breaches of mutual exclusion seen by anyone (see lockStress). */
  BREACHES: 1,
  /** CPUs inside an exclusive section now. */
  WRITERS: 2,
  /** CPUs inside a shared section now (readers and downgraded writers). */
  READERS: 3,
  /** CPUs holding a downgraded write lock now. */
  DOWNGRADED: 4,
} as const;

export interface LockStressArgs {
  /**
   * mmap: the mm's mmap_lock (rw); ptl: a PTE table's split lock;
   * page_table_lock: the mm's; none: no lock at all (the sections race: a
   * control showing the checks can see a breach).
   */
  lock: 'mmap' | 'ptl' | 'page_table_lock' | 'none';
  /** The mm (mmap, page_table_lock). */
  asid?: number;
  /** The PTE table frame (ptl). */
  frame?: number;
  rounds: number;
  /**
   * Past `rounds`, go on until the machine has seen this much contention (up
   * to `maxRounds`, default 50 * rounds): with a lock, acquisitions that had
   * to wait (C.WAIT_SERIAL of every CPU); without one, breaches. On a 2-core
   * host the threads may overlap little in a short run; this makes sure they did.
   */
  minContention?: number;
  maxRounds?: number;
  seed: number;
  /** mmap: the share of rounds (0..1) that write; the rest read (default 0.5). */
  writeShare?: number;
  /** mmap: the share of write rounds that downgrade to read before unlocking (default 0.3). */
  downgradeShare?: number;
  /** Instruction boundaries (taking IPIs, yield points under a gate) at each pause inside a section. */
  hold: number;
  /**
   * Inside each exclusive section, also wait up to this many boundaries for
   * another CPU to be waiting for the lock (default 0): a section that
   * outlasts the others' arrival makes them contend whenever they run at the
   * same time as this one.
   */
  awaitWaiter?: number;
}

export interface LockStressResult {
  /** Exclusive sections this CPU ran (each added one to COUNTER). */
  writes: number;
  reads: number;
  downgrades: number;
  /** Shared sections that overlapped another CPU's downgraded section (readers let in). */
  overlaps: number;
  /** The first breach this CPU saw, described, or null. */
  firstBreach: string | null;
}

/**
 * Lock stress: `rounds` critical sections on one lock, mixed at random.
 *
 * An exclusive section (write lock, spinlock) increments COUNTER with a plain
 * load, a pause, and a plain store (a lost update if two CPUs are ever inside
 * at once), and checks nobody else is inside (WRITERS, READERS). A shared
 * section (read lock, or a write lock downgraded after its increment) checks
 * the lock's own words (STATE > 0, no WRITER, this CPU's READERS bit) and
 * that no exclusive section is in progress, before and after a pause. Every
 * breach adds one to BREACHES. At the end COUNTER must equal the exclusive
 * sections run by all CPUs, and BREACHES must be 0.
 */
export function lockStress(cpu: Cpu, machine: Machine, a: LockStressArgs): LockStressResult {
  const i32 = machine.i32;
  const L = machine.layout;
  const w = (k: number): number => H.SCRATCH + k;
  const rng = new Rng(cpuSeed(a.seed, cpu.id));
  const rw = a.lock === 'mmap';
  const at = a.lock === 'mmap' ? mmapLockWord(L, a.asid ?? 0) : a.lock === 'page_table_lock' ? ptLockWord(L, a.asid ?? 0) : a.lock === 'ptl' ? ptlWord(L, a.frame ?? 0) : -1;
  const writerAt = at + (A.MMAP_WRITER - A.MMAP_LOCK);
  const readersAt = at + (A.MMAP_READERS - A.MMAP_LOCK);
  const r: LockStressResult = { writes: 0, reads: 0, downgrades: 0, overlaps: 0, firstBreach: null };
  const breach = (what: string): void => {
    Atomics.add(i32, w(LOCK_STRESS.BREACHES), 1);
    r.firstBreach ??= `CPU ${cpu.id}, round ${r.writes + r.reads}: ${what}`;
  };
  const pause = (): void => {
    for (let i = 0; i < a.hold; i++) {
      cpu.step++;
      cpu.pollIpis();
      cpu.yieldPoint(true);
    }
  };
  const waited = (): boolean => {
    for (let c = 0; c < L.cfg.cpus; c++) if (c !== cpu.id && Atomics.load(i32, L.cpu(c, C.WAIT_FOR)) === at + 1) return true;
    return false;
  };
  const exclusive = (): void => {
    if (Atomics.add(i32, w(LOCK_STRESS.WRITERS), 1) !== 0) breach('another CPU is in an exclusive section');
    if (Atomics.load(i32, w(LOCK_STRESS.READERS)) !== 0) breach('a CPU is in a shared section during an exclusive one');
    if (a.lock !== 'none' && !rw && Atomics.load(i32, at) !== cpu.id + 1) breach(`the spinlock word is ${Atomics.load(i32, at)}, not CPU ${cpu.id} + 1`);
    if (rw && (Atomics.load(i32, at) !== -1 || Atomics.load(i32, writerAt) !== cpu.id + 1)) breach(`write-locked, but STATE ${Atomics.load(i32, at)}, WRITER ${Atomics.load(i32, writerAt)}`);
    const v = i32[w(LOCK_STRESS.COUNTER)];
    pause();
    if (a.awaitWaiter && at >= 0) {
      for (let i = 0; i < a.awaitWaiter && !waited(); i++) {
        cpu.step++;
        cpu.pollIpis();
        cpu.yieldPoint(true);
      }
    }
    i32[w(LOCK_STRESS.COUNTER)] = v + 1;
    pause();
    Atomics.sub(i32, w(LOCK_STRESS.WRITERS), 1);
    r.writes++;
  };
  const shared = (downgraded: boolean): void => {
    Atomics.add(i32, w(LOCK_STRESS.READERS), 1);
    const check = (): void => {
      if (Atomics.load(i32, w(LOCK_STRESS.WRITERS)) !== 0) breach('an exclusive section is in progress during a shared one');
      if (a.lock === 'none') return;
      const state = Atomics.load(i32, at);
      const writer = Atomics.load(i32, writerAt);
      if (state <= 0 || writer !== 0) breach(`read-locked, but STATE ${state}, WRITER ${writer}`);
      if (!(Atomics.load(i32, readersAt) & (1 << cpu.id))) breach(`read-locked, but READERS lacks CPU ${cpu.id}`);
    };
    check();
    if (!downgraded && Atomics.load(i32, w(LOCK_STRESS.DOWNGRADED)) > 0) r.overlaps++;
    pause();
    check();
    Atomics.sub(i32, w(LOCK_STRESS.READERS), 1);
  };
  const writeShare = a.writeShare ?? 0.5;
  const downgradeShare = a.downgradeShare ?? 0.3;
  const contention = (): number => {
    if (a.lock === 'none') return Atomics.load(i32, w(LOCK_STRESS.BREACHES));
    let n = 0;
    for (let c = 0; c < L.cfg.cpus; c++) n += Atomics.load(i32, L.cpu(c, C.WAIT_SERIAL));
    return n;
  };
  const maxRounds = Math.max(a.rounds, a.maxRounds ?? 50 * a.rounds);
  for (let i = 0; !machine.aborted(); i++) {
    if (i >= a.rounds && (i >= maxRounds || contention() >= (a.minContention ?? 0))) break;
    if (a.lock === 'none') {
      if (rng.float() < writeShare) exclusive();
      else {
        shared(false);
        r.reads++;
      }
    } else if (!rw) {
      spinLock(cpu, at);
      exclusive();
      spinUnlock(cpu, at);
    } else if (rng.float() < writeShare) {
      writeLock(cpu, at);
      exclusive();
      if (rng.float() < downgradeShare) {
        downgradeWrite(cpu, at);
        Atomics.add(i32, w(LOCK_STRESS.DOWNGRADED), 1);
        shared(true);
        Atomics.sub(i32, w(LOCK_STRESS.DOWNGRADED), 1);
        r.downgrades++;
        readUnlock(cpu, at);
      } else writeUnlock(cpu, at);
    } else {
      readLock(cpu, at);
      shared(false);
      r.reads++;
      readUnlock(cpu, at);
    }
  }
  return r;
}
