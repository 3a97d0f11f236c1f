import { FrameAllocator } from './allocator.js';
import { frameIsCurrent, recordViolation } from './checker.js';
import {
  Access,
  type AccessCode,
  CpuOp,
  FlushKind,
  FrameKind,
  PTE_FRAME_MASK,
  Pte,
  ViolationKind,
  Which,
  tableKindOfLevel,
} from './constants.js';
import { FlushInitiator } from './flush-initiator.js';
import { GupFast } from './gup-fast.js';
import { IpiState, handlePosted } from './ipi.js';
import { Lazy } from './lazy.js';
import { A, C, F, H, K, M, POINT_WORDS, TLB_ENTRY_WORDS, WC_ENTRY_WORDS, type Layout, type Views, tlbTag, wcTag } from './layout.js';
import { PageTables } from './pagetable.js';
import { Gate } from './gate.js';
import { CoreGate, CoreState, spinMicros } from './cores.js';
import { Ev, Recorder } from './recorder.js';
import { FILL_SEQ, type FlushRequest, invalidateCpu } from './tlb.js';

const YD = Pte.YOUNG | Pte.DIRTY;
/** Odds (1 in 2^n) that a kernel action hands the host core over when another CPU thread waits for one (cores.ts). */
const KERNEL_WINDOW_ODDS = 6;
/** Odds (1 in 2^n) that a walk stalls between its PTE table pointer and the PTE: handing the host core over, or spinning without the gate. */
const WALK_WINDOW_ODDS = 7;
const WALK_STALL_ODDS = 6;

/** Result of Cpu.access. */
export const AccessResult = { OK: 0, FAULT: 1, VIOLATION: 2 } as const;
/** Cpu.hit: not a TLB hit that hit() completes; nothing done. */
export const NOT_HIT = -1;

/**
 * Literal copies of the constants Cpu.hit uses. tsc writes a const enum's
 * members as numbers, where a property of an imported constant object costs
 * about ten bytes of bytecode; that keeps hit() inside the JIT's budget for
 * inlining it into the run loop.
 */
const enum Hit {
  LOAD = 0,
  STORE = 1,
  FETCH = 2,
  WRITE = 1 << 21,
  EXEC = 1 << 22,
  DIRTY = 1 << 24,
  WRITE_DIRTY = WRITE | DIRTY,
  FRAME_MASK = (1 << 20) - 1,
  ENTRY_WORDS = 3,
  F_WORDS = 12,
  F_GEN = 1,
  F_KIND = 0,
  DATA = 1,
  OK = 0,
  NOT_HIT = -1,
}
// Each copy must equal its original: checked once, as the module loads.
const HIT_COPIES: [number, number][] = [
  [Hit.LOAD, Access.LOAD],
  [Hit.STORE, Access.STORE],
  [Hit.FETCH, Access.FETCH],
  [Hit.WRITE, Pte.WRITE],
  [Hit.EXEC, Pte.EXEC],
  [Hit.DIRTY, Pte.DIRTY],
  [Hit.WRITE_DIRTY, Pte.WRITE | Pte.DIRTY],
  [Hit.FRAME_MASK, PTE_FRAME_MASK],
  [Hit.ENTRY_WORDS, TLB_ENTRY_WORDS],
  [Hit.F_WORDS, F.WORDS],
  [Hit.F_GEN, F.GEN],
  [Hit.F_KIND, F.KIND],
  [Hit.DATA, FrameKind.DATA],
  [Hit.OK, AccessResult.OK],
  [Hit.NOT_HIT, NOT_HIT],
];
if (HIT_COPIES.some(([copy, original]) => copy !== original)) throw new Error('cpu.ts: a constant of the hit path (enum Hit) differs from its original');

/**
 * One simulated CPU: its TLBs and walk cache, its view of the page tables
 * (the hardware walker and the fills), its IPI mailbox (the taking side), and
 * its quiescence word. A Cpu object lives in the thread that plays that CPU;
 * everything it shares is in the buffer. It owns two helpers that keep their
 * own protocols: the initiator side of TLB flushes (flush-initiator.ts:
 * flush, flushLocal, syncIpi, ipiMany) and gup_fast's multi-step software
 * walk (gup-fast.ts: gupBegin, gupStep, inGup).
 *
 * Instruction atomicity. An access (TLB lookup, walk, fill, the memory access
 * and the checker's look at the frame) is one instruction. IPIs are taken only
 * between instructions, so with IPI-based flushes an instruction can never
 * overlap the flush that a sender is waiting for. For hardware-broadcast
 * flushes the CPU publishes an EPOCH word: odd while it executes, changed at
 * least every `quantum` instructions and between the steps of a multi-step
 * software operation (gup_fast), even when it is not executing at all. A
 * broadcast initiator invalidates the remote entries, then waits until every
 * CPU's EPOCH is even or has changed: like the DSB after a broadcast TLBI, that
 * waits for memory accesses that used the old translations to complete, but
 * not for a software walker with interrupts off (flush-initiator.ts). (A
 * machine that flushes only by IPI has no broadcast initiator: there the CPU
 * publishes EPOCH with plain stores, for the reports alone.)
 *
 * Fills racing an invalidation. After publishing a TLB or walk-cache entry the
 * filler re-reads the page-table entry it came from, and for a TLB entry the
 * upper entries that lead to its PTE table; if any changed, the new entry is
 * dropped. The kernel always clears an entry (a PTE, or the pmd entry of a
 * table it unhooks with its PTEs still in it) before the flush scans the
 * caches, so with sequentially consistent accesses either the re-read sees
 * the clear, or the scan sees the entry: no stale fill survives.
 */
export class Cpu {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  readonly L: Layout;
  readonly alloc: FrameAllocator;
  readonly pt: PageTables;
  /** Address space loaded (-1: none). */
  asid = -1;
  irq = true;
  /** Steps executed (instructions and multi-step pieces). */
  step = 0;
  /** CpuOp in progress, for violation records and the watchdog. */
  op: number = CpuOp.NONE;
  /** The step gate of controlled runs (inactive in stress runs). */
  readonly gate: Gate;
  /** The host-core gate of stress runs (not armed in controlled runs, or with enough host cores). */
  readonly cores: CoreGate;
  /** Event recording, in a traced iteration only. */
  rec: Recorder | null = null;

  private epoch = 0;
  /** Whether other CPUs invalidate this CPU's caches directly (broadcast flushes). */
  private readonly remoteInvalidation: boolean;
  /** Loaded data goes here, so the JIT cannot drop the load. */
  sink = 0;
  private readonly ctr: number;
  private readonly W: number;
  private readonly shift: number;
  private readonly contents: number;
  private readonly frameMeta: number;
  private readonly shadow: number;
  private readonly dBase: number;
  private readonly dSetMask: number;
  private readonly dWays: number;
  private readonly dSetWords: number;
  /** Words of a set's entries (without its victim word). */
  private readonly dSetEntries: number;
  private readonly iBase: number;
  private readonly iSetMask: number;
  private readonly iWays: number;
  private readonly iSetWords: number;
  private readonly iSetEntries: number;
  private readonly wcBase: number;
  private readonly wcN: number;
  /** This CPU's IPI inbox state word (IpiState.POSTED: a request waits). */
  readonly inboxAt: number;
  private readonly epochAt: number;
  private readonly curOpAt: number;
  private readonly watchersAt: number;
  /** Shadow (generation at write) of the entry returned by the last readEntry (read by gup-fast.ts too). */
  lastShadow = 0;
  /** Location of that entry. */
  private lastAt = 0;
  /** The initiator side of TLB flushes (flush-initiator.ts). */
  readonly flusher: FlushInitiator;
  /** gup_fast's walk in progress (gup-fast.ts). */
  readonly gup: GupFast;

  /**
   * `cores`: the thread's host-core gate, when it outlives this object (a
   * batch of stress iterations keeps its core from one iteration to the
   * next: harness/thread/batch.ts); a new one otherwise.
   */
  constructor(
    views: Views,
    readonly id: number,
    cores?: CoreGate,
  ) {
    this.i32 = views.i32;
    this.f64 = views.f64;
    const L = (this.L = views.layout);
    this.alloc = new FrameAllocator(this.i32, L);
    this.pt = new PageTables(this.i32, L, this.alloc);
    this.ctr = L.counter(id, 0);
    this.W = L.W;
    this.shift = L.shift;
    this.contents = L.contents;
    this.frameMeta = L.frameMeta;
    this.shadow = L.shadow;
    this.dBase = L.dtlbBase(id);
    this.dSetMask = L.cfg.dtlb.sets - 1;
    this.dWays = L.cfg.dtlb.ways;
    this.dSetEntries = this.dWays * TLB_ENTRY_WORDS;
    this.dSetWords = this.dSetEntries + 1;
    this.iBase = L.itlbBase(id);
    this.iSetMask = L.cfg.itlb.sets - 1;
    this.iWays = L.cfg.itlb.ways;
    this.iSetEntries = this.iWays * TLB_ENTRY_WORDS;
    this.iSetWords = this.iSetEntries + 1;
    this.wcBase = L.wcBase(id);
    this.wcN = L.cfg.walkCache;
    // Any flavour with a hardware-broadcast path lets other CPUs clear this CPU's entries.
    this.remoteInvalidation = L.cfg.flush !== 'ipi';
    this.inboxAt = L.inbox(id, M.STATE);
    this.epochAt = L.cpu(id, C.EPOCH);
    this.curOpAt = L.cpu(id, C.CUR_OP);
    this.watchersAt = L.cpu(id, C.EPOCH_WATCHERS);
    this.epoch = Atomics.load(this.i32, this.epochAt);
    this.irq = Atomics.load(this.i32, L.cpu(id, C.IRQ_ENABLED)) !== 0;
    this.asid = Atomics.load(this.i32, L.cpu(id, C.CUR_MM));
    this.gate = new Gate(this.i32, L, id);
    this.cores = cores ?? new CoreGate(this.i32, L, id);
    this.gate.cores = this.cores;
    this.flusher = new FlushInitiator(this);
    this.gup = new GupFast(this);
    // Page-table writes, allocations and frees are the kernel's visible
    // actions: yield points of a controlled run, events of a trace.
    this.pt.onWrite = () => this.yieldPoint(true);
    this.alloc.onChange = (frame, kind, freed) => {
      if (this.rec !== null) this.rec.ev(freed ? Ev.FREE : Ev.ALLOC, frame, kind);
      this.yieldPoint(true);
    };
  }

  /**
   * A visible action of the kernel (a page-table write, an allocation or a
   * free, a new kernel point). Under a controlled run's gate: one step done,
   * wait for the next turn. Under the host-core gate: the kernel is between
   * two actions, inside whatever window it has open, and may stall there now
   * and then; it hands its core at once to a thread whose wait has ended
   * (cores.ts). It takes no slices: a kernel operation stalled in the middle
   * lets a walker stalled across it finish its walk before the free, which
   * closes the very window a gup_fast race needs. Only between instructions
   * (EPOCH even): an action inside an instruction (gup_fast dropping its
   * reference) never splits it.
   */
  yieldPoint(progress: boolean): void {
    if (this.gate.controlling) this.gate.point(progress);
    else if ((this.epoch & 1) === 0 && this.cores.holding && (this.cores.urgentQueued() || this.cores.windowDue(KERNEL_WINDOW_ODDS))) this.handOverCore();
  }

  /**
   * A step inside a race window (cores.ts): under the host-core gate, stall
   * off the core (cores.ts park) with odds 1 in 2^gateOdds when another CPU
   * thread waits for a core (always when a thread whose wait has ended
   * does), for 1 to `parkMaxUs` µs, and with odds 1 in 2^freeOdds when
   * nobody waits, for 1 to `stallMaxUs` µs; without the gate (every CPU
   * thread has a core), stall on it with odds 1 in 2^stallOdds for 1 to
   * `stallMaxUs` µs. Quiescent meanwhile, as off its core: see
   * handOverCore.
   *
   * No stall while an IPI is posted to this CPU, and a stall ends when one
   * is (stallEnded). The stall widens a window that lasts nanoseconds on a
   * real CPU, so that another CPU's free can land inside it. A CPU that
   * posted an IPI here already waits for this one (the walker has
   * interrupts off: the IPI is taken after the walk): anything it frees
   * after the acknowledgement lands after the walk however long the stall,
   * and a free made without waiting for it was made before it posted, inside
   * the stall so far. Stalling on would only make the sender wait: with
   * gather batches of one page, each freed page waited out a stall of up to
   * 512 µs, and a clean IPI-flush combination of gup-fast-vs-table-free ran
   * 2 iterations in 1.8 s instead of 0.05 s.
   */
  window(gateOdds: number, freeOdds: number, stallOdds: number, stallMaxUs: number, parkMaxUs: number): void {
    const cores = this.cores;
    if (this.stallEnded()) return;
    if (cores.holding) {
      // A finished wait is queued (often the kernel, back from waiting for
      // the workload): it gets this core here, inside the window, rather
      // than at the next quantum boundary. A CPU inside a kernel operation
      // gets it first: the window is open while the kernel runs. And the
      // stall lasts up to `parkMaxUs`, off every core, not just until the
      // next thread's slice ends: a table free takes the kernel hundreds of
      // microseconds. (Measured on the broadcast gup_fast
      // combinations, 60 stress iterations each: handing over until the next
      // slice only caught 23-83% of iterations at 3 CPUs, 38-100% at 9; this
      // 52-100% and 98-100%.)
      // With nobody queued (the kernel asleep in a wait, say) the window still
      // stalls now and then (`freeOdds`), off the core and for up to
      // `stallMaxUs`, as it would on a core of its own without the gate.
      const contended = cores.contended();
      if (cores.urgentQueued() || cores.chance(contended ? gateOdds : freeOdds)) this.stall(cores.stallDue(0, contended ? parkMaxUs : stallMaxUs), this.queuedInKernel());
      return;
    }
    const us = cores.stallDue(stallOdds, stallMaxUs);
    if (us !== 0) this.stall(us);
  }

  /**
   * A window's stall of `us` µs, quiescent: under the host-core gate off
   * every core (its core to `prefer` if queued), else spinning on the core;
   * either way it ends early when an IPI is posted to this CPU (window).
   */
  stall(us: number, prefer = -1): void {
    const running = this.quiesce();
    if (this.cores.holding) this.cores.park(prefer, us, this.parkSleep);
    else spinMicros(us, this.stallEnded);
    if (running) this.resume();
  }

  /** Whether an IPI is posted to this CPU, which ends a window's stall (window). */
  private readonly stallEnded = (): boolean => (Atomics.load(this.i32, this.inboxAt) & 3) === IpiState.POSTED;

  /**
   * A window's stall off every core (cores.ts park): up to `ms`, on this
   * CPU's doorbell, which post() rings for a sleeper, so that an IPI posted
   * meanwhile ends it (window). SLEEPING is announced before the inbox is
   * read, and post() stores POSTED before it reads SLEEPING: one of the two
   * sees the other. An abort rings every doorbell too.
   */
  private readonly parkSleep = (ms: number): void => {
    const { i32, L, id } = this;
    const bell = L.cpu(id, C.DOORBELL);
    const sleeping = L.cpu(id, C.SLEEPING);
    const until = performance.now() + ms;
    Atomics.store(i32, sleeping, 1);
    for (;;) {
      const seen = Atomics.load(i32, bell);
      if (this.stallEnded()) break;
      const left = until - performance.now();
      if (left <= 0) break;
      Atomics.wait(i32, bell, seen, left);
    }
    Atomics.store(i32, sleeping, 0);
  };

  /**
   * A window inside a walk, which is one instruction: the walker holds a
   * pointer to a PTE table it has not read yet. A hardware walk stalls there
   * on a memory access (a software miss handler, on anything), and a kernel
   * that frees the table without waiting for walks in flight frees it under
   * the walker. Now and then the CPU stalls here: under the host-core gate it
   * hands its core over (staying mid-instruction: its EPOCH stays odd, so a
   * broadcast initiator still waits for the walk, and no IPI is taken), else
   * it spins for a few microseconds. Never in a controlled run.
   */
  private walkWindow(): void {
    const cores = this.cores;
    if (cores.holding) {
      if (cores.windowDue(WALK_WINDOW_ODDS)) cores.handOver();
      return;
    }
    if (this.gate.controlling) return;
    const us = cores.stallDue(WALK_STALL_ODDS);
    if (us !== 0) spinMicros(us);
  }

  /**
   * Give the host core to the next queued CPU thread and wait for one again.
   * Off its core a CPU executes nothing, so it is quiescent meanwhile (EPOCH
   * even: a broadcast initiator does not wait for a CPU that has no access in
   * flight); a software walk in progress stays in progress, as it does across
   * any quiescence point.
   */
  handOverCore(): void {
    const running = this.quiesce();
    this.cores.handOver();
    if (running) this.resume();
  }

  /**
   * handOverCore at the run loop's quantum boundary: an instruction boundary
   * with interrupts enabled, where the CPU would take an IPI at once. While
   * it is queued there, an IPI sender may take the IPI for it (cores.ts
   * borrow), as if it had arrived just before the CPU stalled.
   */
  handOverCoreInterruptible(): void {
    const at = this.L.cpu(this.id, C.CORE_INTERRUPTIBLE);
    const interruptible = this.irq;
    if (interruptible) Atomics.store(this.i32, at, 1);
    try {
      this.handOverCore();
    } finally {
      if (interruptible) Atomics.store(this.i32, at, 0);
    }
  }

  /** A CPU queued for a host core in the middle of a kernel operation, or -1. */
  private queuedInKernel(): number {
    const { i32, L } = this;
    for (let c = 0; c < L.cfg.cpus; c++) {
      if (c !== this.id && Atomics.load(i32, L.cpu(c, C.KERNEL_OP)) !== 0 && Atomics.load(i32, L.cpu(c, C.CORE_STATE)) === CoreState.QUEUED) return c;
    }
    return -1;
  }

  /** Record events from now on (a traced iteration); `clock` stamps them. */
  startRecording(clock: () => number): Recorder {
    this.rec = new Recorder(this.id, clock);
    return this.rec;
  }

  // ---------------------------------------------------------------- state

  /** Counter value (own counters). */
  count(name: keyof typeof K): number {
    return this.f64[this.ctr + K[name]];
  }

  /**
   * The mm this CPU keeps loaded in lazy TLB mode (-1: not lazy). While lazy,
   * `asid` is that mm, or -1 once a flush IPI made the CPU leave it.
   */
  lazyAsid = -1;

  /**
   * enter_lazy_tlb: the CPU switches to a kernel thread and keeps the mm it
   * ran loaded (machine/lazy.ts). It makes no user accesses until leaveLazy;
   * its hardware may still walk the mm speculatively. Nothing when no mm is
   * loaded.
   */
  enterLazy(): void {
    if (this.asid < 0 || this.lazyAsid >= 0) return;
    this.lazyAsid = this.asid;
    Atomics.store(this.i32, this.L.cpu(this.id, C.LAZY), Lazy.LAZY);
    this.f64[this.ctr + K.lazyEntries]++;
  }

  /**
   * Back from the kernel thread to the mm it left lazily (switch_mm_irqs_off
   * with prev == next, was_lazy). If a flush skipped this CPU meanwhile
   * (MISSED), everything it cached of the mm goes first, as the x86 kernel
   * does when its tlb_gen fell behind; if a flush IPI made it leave the mm,
   * it loads the mm again (whose entries went when it left). One step, with
   * interrupts off, as the switch is.
   */
  leaveLazy(): void {
    const asid = this.lazyAsid;
    if (asid < 0) return;
    this.lazyAsid = -1;
    const i32 = this.i32;
    const at = this.L.cpu(this.id, C.LAZY);
    if (this.asid < 0) {
      Atomics.store(i32, at, Lazy.ACTIVE);
      if (this.pt.isLive(asid)) this.switchMm(asid);
      return;
    }
    for (;;) {
      const v = Atomics.load(i32, at);
      if (v === Lazy.LAZY && Atomics.compareExchange(i32, at, Lazy.LAZY, Lazy.ACTIVE) === Lazy.LAZY) return;
      if (v === Lazy.MISSED && Atomics.compareExchange(i32, at, Lazy.MISSED, Lazy.CATCHING_UP) === Lazy.MISSED) {
        this.dropMm(asid);
        this.f64[this.ctr + K.lazyCatchUps]++;
        Atomics.store(i32, at, Lazy.ACTIVE);
        return;
      }
      if (v === Lazy.ACTIVE) return;
    }
  }

  /**
   * A flush IPI marked LAZY_LEAVE reached this CPU in lazy mode: x86's
   * flush_tlb_func switches it to init_mm. Its caches drop the mm's entries
   * (the kernel defers that to the next switch by tlb_gen, with PCIDs; the
   * effect is the same: none is used again), its bit leaves the mm's cpumask
   * so later flushes pass it by, and it walks nothing until leaveLazy.
   */
  private leaveMmLazily(): void {
    const asid = this.asid;
    this.dropMm(asid);
    Atomics.and(this.i32, this.L.space(asid, A.CPUMASK), ~(1 << this.id));
    this.asid = -1;
    Atomics.store(this.i32, this.L.cpu(this.id, C.CUR_MM), -1);
    Atomics.store(this.i32, this.L.cpu(this.id, C.LAZY), Lazy.ACTIVE);
    this.f64[this.ctr + K.lazyLeaves]++;
  }

  /** A local flush of everything this CPU caches of address space `asid` (TLBs and walk cache). */
  private dropMm(asid: number): void {
    invalidateCpu(this.i32, this.L, this.id, { kind: FlushKind.ASID, asid, start: 0, end: 0, which: Which.ALL }, true);
    this.f64[this.ctr + K.localFlushes]++;
  }

  /** Load address space `asid` (switch_mm): sets this CPU's bit in its cpumask. */
  switchMm(asid: number): void {
    this.asid = asid;
    Atomics.store(this.i32, this.L.cpu(this.id, C.CUR_MM), asid);
    if (asid >= 0) Atomics.or(this.i32, this.L.space(asid, A.CPUMASK), 1 << this.id);
    this.f64[this.ctr + K.switches]++;
  }

  setIrq(on: boolean): void {
    if (on === this.irq) return;
    this.irq = on;
    if (!on) this.f64[this.ctr + K.irqOffSince] = this.step;
    Atomics.store(this.i32, this.L.cpu(this.id, C.IRQ_ENABLED), on ? 1 : 0);
    if (this.rec !== null) this.rec.ev(Ev.IRQ, on ? 1 : 0);
    if (on) this.pollIpis();
  }

  /**
   * Name the operation in progress. CUR_OP is for reports only (the watchdog's
   * stuck-CPU error, a controlled run's deadlock report), read long after it
   * was written or across the gate's handshakes: a plain store.
   */
  setOp(op: number): void {
    this.op = op;
    this.i32[this.curOpAt] = op;
  }

  /**
   * Called at every kernel point this CPU reaches (setKernelOp with a step),
   * after the point is marked reached: a harness holds a race window open
   * here (holdPoint). Null: nothing.
   */
  onKernelPoint: ((op: number) => void) | null = null;

  /**
   * Name the kernel operation in flight on this CPU (recorded with frees).
   * `op` is (syscall << 8) | step (kernel/ops.ts); a non-zero step is a
   * kernel point: it is marked reached (layout.ts POINT_WORDS, a bit per
   * syscall code) before onKernelPoint runs, so a CPU waiting for it sees it
   * even while this one holds it.
   */
  setKernelOp(op: number, arg: number): void {
    if (this.rec !== null) this.rec.ev(Ev.KERNEL_OP, op, arg);
    Atomics.store(this.i32, this.L.cpu(this.id, C.KERNEL_OP), op);
    Atomics.store(this.i32, this.L.cpu(this.id, C.KERNEL_ARG), arg);
    const step = op & 0xff;
    if (step !== 0 && step < POINT_WORDS) {
      const syscall = (op >>> 8) & 0x1f;
      const at = this.L.point(this.id, step);
      if ((this.i32[at] & (1 << syscall)) === 0) {
        Atomics.or(this.i32, at, 1 << syscall);
        // Progress another CPU may be waiting for (a controlled run unblocks it).
        this.yieldPoint(true);
      }
      if (this.onKernelPoint !== null) this.onKernelPoint(op);
    }
  }
  kernelOp(): number {
    return Atomics.load(this.i32, this.L.cpu(this.id, C.KERNEL_OP));
  }
  kernelArg(): number {
    return Atomics.load(this.i32, this.L.cpu(this.id, C.KERNEL_ARG));
  }

  /**
   * Drop the kernel's reference to a frame (put_page) on behalf of the kernel
   * op in flight on this CPU; the frame is freed unless a gup pin still holds it.
   */
  freeFrame(frame: number): void {
    this.alloc.put(frame, this.id, this.kernelOp(), this.kernelArg());
  }

  // ----------------------------------------------------- quiescence (EPOCH)

  /** Start executing instructions (EPOCH becomes odd). */
  resume(): void {
    if ((this.epoch & 1) === 0) this.publishEpoch(this.epoch + 1);
  }
  /** Stop executing instructions (EPOCH becomes even). Returns whether it was running. */
  quiesce(): boolean {
    if ((this.epoch & 1) === 0) return false;
    this.publishEpoch(this.epoch + 1);
    return true;
  }
  /**
   * Instruction boundary at which in-flight accesses are complete. Returns
   * whether a broadcast initiator was waiting for it.
   */
  boundary(): boolean {
    this.f64[this.ctr + K.stepNow] = this.step;
    return (this.epoch & 1) !== 0 && this.publishEpoch(this.epoch + 2);
  }
  /** Whether a broadcast initiator is waiting for this CPU to pass its next quiescence point. */
  watched(): boolean {
    return Atomics.load(this.i32, this.watchersAt) !== 0 && Atomics.load(this.i32, this.L.cpu(this.id, C.EPOCH_WATCHED)) === this.epoch;
  }
  private publishEpoch(e: number): boolean {
    this.epoch = e | 0;
    // Only a broadcast initiator waits for EPOCH. On a machine that flushes
    // only by IPI there is none: a plain store keeps the word right for the
    // reports (gate.ts) without the cost of an SC store on every IPI sent.
    if (!this.remoteInvalidation) {
      this.i32[this.epochAt] = this.epoch;
      return false;
    }
    Atomics.store(this.i32, this.epochAt, this.epoch);
    // Synchronize with every broadcast initiator that may see this EPOCH (see
    // hit): in the SC order an initiator's bump of BROADCAST_SEQ precedes its
    // read of EPOCH, which precedes this store if it read an older value, so
    // this load reads that bump or a later one, and the initiator's drops
    // happen-before every lookup after it.
    Atomics.load(this.i32, H.BROADCAST_SEQ);
    if (Atomics.load(this.i32, this.watchersAt) === 0) return false;
    Atomics.notify(this.i32, this.epochAt);
    return true;
  }

  // ------------------------------------------------------------- accesses

  /**
   * One load, store or instruction fetch of word `off` of page `vpn` in the
   * current address space. Returns AccessResult. Counts what it did; the run
   * loop calls hit() and accessMiss() itself and batches the counts of hits.
   */
  access(type: AccessCode, vpn: number, off: number, value = 0): number {
    const res = this.hit(type, vpn, off, value);
    if (res === NOT_HIT) return this.accessMiss(type, vpn, off, value);
    this.countHits(type, res === AccessResult.FAULT ? 0 : 1, 1);
    return res;
  }

  /**
   * The TLB-hit path of access(), counting nothing (the caller counts the hit
   * with countHits): a lookup that hits, with no dirty bit to set, then the
   * permission check, the memory access and the checker's look. Returns an
   * AccessResult, or NOT_HIT having changed nothing but `op` (no mm, a miss,
   * or a store through a clean entry): accessMiss() then makes the access.
   * Kept small (the lookup inline, everything rare out of line) so that the
   * JIT inlines it into the run loop along with the draws.
   */
  hit(type: AccessCode, vpn: number, off: number, value: number): number {
    this.op = type + 1; // CpuOp.LOAD, STORE, FETCH
    const asid = this.asid;
    if (asid < 0) return Hit.NOT_HIT;
    const i32 = this.i32;
    const fetch = type === Hit.FETCH;
    const tag = tlbTag(asid, vpn);
    let at = fetch ? this.iBase + (vpn & this.iSetMask) * this.iSetWords : this.dBase + (vpn & this.dSetMask) * this.dSetWords;
    const end = at + (fetch ? this.iSetEntries : this.dSetEntries);
    // Plain loads. With IPI flushes this CPU is the only writer of its TLBs.
    // Where a broadcast initiator can drop entries (a CAS to zero), the
    // initiator waits for this CPU's next quiescence point before anything
    // is freed, and that point synchronizes with it (publishEpoch reads
    // BROADCAST_SEQ, which the initiator bumps after its drops): every lookup
    // after the point misses a dropped entry. A lookup before it may still
    // find one, which is an access in flight during the invalidation, as
    // the DSB's wait allows. (These were SC loads, one per way compared:
    // V8 does not inline Atomics.load, and the call was a tenth of a 4-CPU
    // broadcast run's CPU time.)
    while (at < end && i32[at] !== tag) at += Hit.ENTRY_WORDS;
    if (at === end) return Hit.NOT_HIT;
    // Value and generation are written only by this CPU (fillTlb).
    const pte = i32[at + 1];
    // From here on complete()'s steps, written out: the run loop's inlining
    // budget does not stretch to a call to it.
    if (type !== Hit.LOAD && (fetch ? !(pte & Hit.EXEC) : (pte & Hit.WRITE_DIRTY) !== Hit.WRITE_DIRTY)) return this.unusualHit(type, pte);
    const frame = pte & Hit.FRAME_MASK;
    const wAt = this.contents + frame * this.W + off;
    if (type === Hit.STORE) i32[wAt] = value;
    else this.sink ^= i32[wAt];
    const gen = i32[at + 2];
    const fm = this.frameMeta + frame * Hit.F_WORDS;
    if (i32[fm + Hit.F_GEN] !== gen || i32[fm + Hit.F_KIND] !== Hit.DATA) return this.stale(fetch, vpn, frame, gen);
    return Hit.OK;
  }

  /**
   * hit() found an entry a store or a fetch cannot use as it is: a permission
   * fault, or (a store through a clean entry) NOT_HIT: the access re-walks to
   * set the dirty bit, as x86 does.
   */
  private unusualHit(type: AccessCode, pte: number): number {
    return type === Access.STORE && pte & Pte.WRITE ? NOT_HIT : this.fault();
  }

  /**
   * Count `hits` TLB hits of accesses of `type` (I-TLB for fetches), of which
   * `done` passed the permission check and accessed memory.
   */
  countHits(type: AccessCode, done: number, hits: number): void {
    const f64 = this.f64;
    const ctr = this.ctr;
    if (type === Access.FETCH) {
      f64[ctr + K.itlbHits] += hits;
      f64[ctr + K.fetches] += done;
    } else {
      f64[ctr + K.dtlbHits] += hits;
      f64[ctr + (type === Access.STORE ? K.stores : K.loads)] += done;
    }
  }

  /** access() after hit() returned NOT_HIT: a fault without an mm, else a walk (a miss, or a store that sets the dirty bit). */
  accessMiss(type: AccessCode, vpn: number, off: number, value: number): number {
    if (this.asid < 0) return this.fault();
    return this.miss(type, vpn, off, value);
  }

  private fault(): number {
    this.f64[this.ctr + K.faults]++;
    return AccessResult.FAULT;
  }

  /** A TLB miss: walk, fill, then the access. */
  private miss(type: AccessCode, vpn: number, off: number, value: number): number {
    this.f64[this.ctr + (type === Access.FETCH ? K.itlbMisses : K.dtlbMisses)]++;
    const pte = this.walkAndFill(vpn, type, false);
    if (pte <= 0) return pte === 0 ? this.fault() : AccessResult.VIOLATION;
    const res = this.complete(type, vpn, off, pte, value, this.lastShadow);
    if (res !== AccessResult.FAULT) this.f64[this.ctr + (type === Access.FETCH ? K.fetches : type === Access.STORE ? K.stores : K.loads)]++;
    return res;
  }

  /**
   * Permission check, the memory access, and the checker's look at the frame.
   * Counts faults; the caller counts the access (hits are counted in batches).
   */
  private complete(type: AccessCode, vpn: number, off: number, pte: number, value: number, gen: number): number {
    const i32 = this.i32;
    const fetch = type === Access.FETCH;
    if ((type === Access.STORE && !(pte & Pte.WRITE)) || (fetch && !(pte & Pte.EXEC))) return this.fault();
    const frame = pte & PTE_FRAME_MASK;
    const wAt = this.contents + frame * this.W + off;
    if (type === Access.STORE) i32[wAt] = value;
    else this.sink ^= i32[wAt];
    // The checker: the frame must still be the allocation the translation was
    // made for. Looked at after the access, so a free that the access raced is
    // seen. Plain loads cannot fire falsely: under a correct policy the free
    // happens-after this access completes (through the IPI acknowledgement or
    // the quiescence handshake), so these loads cannot see it. This is
    // checker.ts's frameIsCurrent, inline with plain loads: the TLB-hit path.
    const fm = this.frameMeta + frame * F.WORDS;
    if (i32[fm + F.GEN] !== gen || i32[fm + F.KIND] !== FrameKind.DATA) return this.stale(fetch, vpn, frame, gen);
    return AccessResult.OK;
  }

  /** complete() found the frame freed or reallocated: record the violation. */
  private stale(fetch: boolean, vpn: number, frame: number, gen: number): number {
    this.violation(fetch ? ViolationKind.STALE_FETCH : ViolationKind.STALE_DATA, vpn, frame, gen, 0);
    return AccessResult.VIOLATION;
  }

  /**
   * Miss path (a demand walk that refilled the TLB; never on a TLB hit): if an
   * invalidation dropped this tag from this CPU (its drop shadow holds it),
   * the refill just made is a cost of that flush.
   */
  private countRefillAfterDrop(fetch: boolean, tag: number): void {
    const at = this.L.dropSlot(this.id, fetch, tag);
    if (Atomics.load(this.i32, at) !== tag || Atomics.compareExchange(this.i32, at, tag, 0) !== tag) return;
    this.f64[this.ctr + K.refillsAfterDrop]++;
    if (fetch) this.f64[this.ctr + K.itlbRefillsAfterDrop]++;
  }

  /** A speculative walk for vpn: fills the TLB (I-TLB when `exec`) if it finds a translation. */
  speculativeWalk(vpn: number, exec: boolean): void {
    if (this.asid < 0) return;
    this.f64[this.ctr + K.speculativeWalks]++;
    const prev = this.op;
    this.op = CpuOp.SPECULATIVE_WALK;
    const pte = this.walkAndFill(vpn, exec ? Access.FETCH : Access.LOAD, true);
    this.op = prev;
    if (this.rec !== null) this.rec.ev(Ev.SPEC_WALK, vpn, pte > 0 ? 1 : 0);
  }

  /**
   * Read entry `idx` of table `t` that the walker reached through a pointer
   * filled with generation `gen`, as a `level` table. Returns the entry, or -1
   * after recording a violation if the table was freed or reallocated.
   * (Also gup-fast.ts's table reads.)
   */
  readEntry(t: number, gen: number, level: number, idx: number, vpn: number, vkind: number): number {
    const i32 = this.i32;
    const at = this.contents + t * this.W + idx;
    const sat = this.shadow + t * this.W + idx;
    let e = Atomics.load(i32, at);
    let s = Atomics.load(i32, sat);
    for (let tries = 0; tries < 8; tries++) {
      const again = Atomics.load(i32, at);
      if (again === e) break;
      e = again;
      s = Atomics.load(i32, sat);
    }
    if (!frameIsCurrent(i32, this.L, t, gen, tableKindOfLevel(level))) {
      this.violation(vkind, vpn, t, gen, level);
      return -1;
    }
    this.lastShadow = s;
    this.lastAt = at;
    return e;
  }

  /**
   * Hardware walk for vpn through the walk cache and the tables, then fill the
   * TLB for `type`. Returns the PTE (with young/dirty as set), 0 when there is
   * no translation, -1 after a violation. lastShadow holds the data frame's
   * generation at fill.
   */
  private walkAndFill(vpn: number, type: AccessCode, speculative: boolean): number {
    const i32 = this.i32;
    const asid = this.asid;
    const shift = this.shift;
    const m = this.W - 1;
    if (!speculative) this.f64[this.ctr + K.walks]++;
    let t = -1;
    let tGen = 0;
    const wc1 = this.wcN > 0 ? this.wcFind(asid, 1, vpn >>> shift) : -1;
    if (wc1 >= 0) {
      t = Atomics.load(i32, wc1 + 1);
      tGen = Atomics.load(i32, wc1 + 2);
      this.f64[this.ctr + K.walkCacheHits]++;
    } else {
      let pm = -1;
      let pmGen = 0;
      const wc2 = this.wcN > 0 ? this.wcFind(asid, 2, vpn >>> (2 * shift)) : -1;
      if (wc2 >= 0) {
        pm = Atomics.load(i32, wc2 + 1);
        pmGen = Atomics.load(i32, wc2 + 2);
        this.f64[this.ctr + K.walkCacheHits]++;
      } else {
        const root = Atomics.load(i32, this.L.space(asid, A.PGD_FRAME));
        const rootGen = Atomics.load(i32, this.L.space(asid, A.PGD_GEN));
        const e = this.readEntry(root, rootGen, 3, (vpn >>> (2 * shift)) & m, vpn, ViolationKind.WALK_TABLE);
        if (e < 0) return -1;
        if (!(e & Pte.PRESENT)) return 0;
        pm = e & PTE_FRAME_MASK;
        pmGen = this.lastShadow;
        if (this.wcN > 0) this.wcFill(asid, 2, vpn >>> (2 * shift), pm, pmGen, this.lastAt, e);
      }
      const e = this.readEntry(pm, pmGen, 2, (vpn >>> shift) & m, vpn, ViolationKind.WALK_TABLE);
      if (e < 0) return -1;
      if (!(e & Pte.PRESENT)) return 0;
      t = e & PTE_FRAME_MASK;
      tGen = this.lastShadow;
      if (this.wcN > 0) this.wcFill(asid, 1, vpn >>> shift, t, tGen, this.lastAt, e);
    }
    // The PTE table in hand, its entry not read yet: a window (cores.ts).
    this.walkWindow();
    let pte = this.readEntry(t, tGen, 1, vpn & m, vpn, ViolationKind.WALK_TABLE);
    if (pte < 0) return -1;
    if (!(pte & Pte.PRESENT)) return 0;
    const pteAt = this.lastAt;
    const gen = this.lastShadow;
    // The walker sets young (and dirty for a store) in the PTE, atomically with
    // respect to the kernel's ptep_get_and_clear. Another CPU's walker may set
    // the same bits first: like hardware, retry with what it wrote, provided
    // the entry is still the one read (only young/dirty differ, and its
    // shadow, written before any new entry, still holds the generation read).
    // Anything else (cleared, or remapped) is no translation.
    for (;;) {
      const want = pte | Pte.YOUNG | (type === Access.STORE && pte & Pte.WRITE ? Pte.DIRTY : 0);
      if (want === pte) break;
      const seen = Atomics.compareExchange(i32, pteAt, pte, want);
      if (seen === pte) {
        pte = want;
        break;
      }
      if ((seen | YD) !== (pte | YD) || Atomics.load(i32, this.shadow - this.contents + pteAt) !== gen) return 0;
      pte = seen;
    }
    this.fillTlb(type === Access.FETCH, asid, vpn, pte, gen, pteAt, t);
    if (!speculative) this.countRefillAfterDrop(type === Access.FETCH, tlbTag(asid, vpn));
    this.lastShadow = gen;
    return pte;
  }

  private fillTlb(fetch: boolean, asid: number, vpn: number, pte: number, gen: number, srcAt: number, table: number): void {
    const i32 = this.i32;
    const ways = fetch ? this.iWays : this.dWays;
    const setWords = ways * TLB_ENTRY_WORDS + 1;
    const sb = fetch ? this.iBase + (vpn & this.iSetMask) * setWords : this.dBase + (vpn & this.dSetMask) * setWords;
    const tag = tlbTag(asid, vpn);
    // The set's fill sequence opens (tlb.ts FILL_SEQ): until it closes, a
    // reader in another thread does not take this set's entries as they are.
    const seqAt = sb + ways * TLB_ENTRY_WORDS;
    const seq = Atomics.load(i32, seqAt);
    Atomics.store(i32, seqAt, (seq + FILL_SEQ.ONE) | 0);
    let next = seq & FILL_SEQ.VICTIM;
    let way = -1;
    for (let w = 0; w < ways; w++) {
      const t = Atomics.load(i32, sb + w * TLB_ENTRY_WORDS);
      if (t === tag) {
        way = w;
        break;
      }
      if (t === 0 && way < 0) way = w;
    }
    if (way < 0) {
      way = next % ways;
      next = (way + 1) % ways;
    }
    const a = sb + way * TLB_ENTRY_WORDS;
    Atomics.store(i32, a, 0);
    Atomics.store(i32, a + 1, pte);
    Atomics.store(i32, a + 2, gen);
    Atomics.store(i32, a, tag);
    this.f64[this.ctr + K.fills]++;
    if (this.rec !== null) this.rec.ev(Ev.FILL, fetch ? 1 : 0, vpn, pte & PTE_FRAME_MASK);
    // Re-read the source (see the class comment): a changed PTE means an
    // invalidation may have scanned this set before the tag was published.
    // The path too: a kernel may unhook the PTE table (clear its pmd entry)
    // and flush with the PTEs still in it (khugepaged's pmdp_collapse_flush),
    // and a walk that came through a walk-cache entry or the old pmd entry
    // must not leave a fill behind that flush.
    if ((Atomics.load(i32, srcAt) | YD) !== (pte | YD) || this.pteTableOf(asid, vpn) !== table) Atomics.compareExchange(i32, a, tag, 0);
    // Closed only now: a fill its own re-read drops was never an entry.
    Atomics.store(i32, seqAt, ((seq + 2 * FILL_SEQ.ONE) & ~FILL_SEQ.VICTIM) | next);
  }

  /** The PTE table the page tables (not the walk cache) lead to for vpn now, or -1. */
  private pteTableOf(asid: number, vpn: number): number {
    const i32 = this.i32;
    const shift = this.shift;
    const m = this.W - 1;
    const root = Atomics.load(i32, this.L.space(asid, A.PGD_FRAME));
    const e2 = Atomics.load(i32, this.contents + root * this.W + ((vpn >>> (2 * shift)) & m));
    if (!(e2 & Pte.PRESENT)) return -1;
    const e1 = Atomics.load(i32, this.contents + (e2 & PTE_FRAME_MASK) * this.W + ((vpn >>> shift) & m));
    return e1 & Pte.PRESENT ? e1 & PTE_FRAME_MASK : -1;
  }

  private wcFind(asid: number, level: number, prefix: number): number {
    const i32 = this.i32;
    const tag = wcTag(asid, level, prefix);
    for (let e = 0, a = this.wcBase; e < this.wcN; e++, a += WC_ENTRY_WORDS) {
      if (Atomics.load(i32, a) === tag) return a;
    }
    return -1;
  }

  private wcFill(asid: number, level: number, prefix: number, table: number, gen: number, srcAt: number, srcVal: number): void {
    const i32 = this.i32;
    const tag = wcTag(asid, level, prefix);
    // The walk cache's fill sequence, as fillTlb's.
    const seqAt = this.wcBase + this.wcN * WC_ENTRY_WORDS;
    const seq = Atomics.load(i32, seqAt);
    Atomics.store(i32, seqAt, (seq + FILL_SEQ.ONE) | 0);
    const v = (seq & FILL_SEQ.VICTIM) % this.wcN;
    const a = this.wcBase + v * WC_ENTRY_WORDS;
    Atomics.store(i32, a, 0);
    Atomics.store(i32, a + 1, table);
    Atomics.store(i32, a + 2, gen);
    Atomics.store(i32, a, tag);
    if (Atomics.load(i32, srcAt) !== srcVal) Atomics.compareExchange(i32, a, tag, 0);
    Atomics.store(i32, seqAt, ((seq + 2 * FILL_SEQ.ONE) & ~FILL_SEQ.VICTIM) | ((v + 1) % this.wcN));
  }

  /** Record a violation seen by this CPU (also gup-fast.ts's). */
  violation(kind: number, vpn: number, frame: number, genFill: number, level: number): void {
    this.f64[this.ctr + K.violations]++;
    if (this.rec !== null) this.rec.ev(Ev.VIOLATION, kind, vpn, frame);
    recordViolation(this.i32, this.L, { kind, cpu: this.id, vpn, frame, genFill, ownerBefore: this.asid, cpuOp: this.op, step: this.reportStep(), level });
  }

  /**
   * The step a violation is reported at: under a controlled run's gate the
   * gate's global step, the one counter a replay's events are stamped with
   * (worker-host.ts records by gate.step), so a violation line and the story
   * printed before it agree; in a stress run this CPU's own step count.
   */
  reportStep(): number {
    return this.gate.controlling ? this.gate.step : this.step;
  }

  // -------------------------------------------------------------- gup_fast

  /** Whether a gup_fast walk is in progress (it spans several steps). */
  get inGup(): boolean {
    return this.gup.stage !== 0;
  }

  /** Start a gup_fast walk of `pages` pages from vpn (gup-fast.ts). */
  gupBegin(vpn: number, pages = 1): void {
    this.gup.begin(vpn, pages);
  }

  /** One step of the gup_fast walk; returns true when the walk is over. */
  gupStep(): boolean {
    return this.gup.step();
  }

  // ------------------------------------------------------------------ IPIs

  /** At an instruction boundary with interrupts enabled: take a pending IPI. Returns whether one was taken. */
  pollIpis(): boolean {
    if (this.irq && (Atomics.load(this.i32, this.inboxAt) & 3) === IpiState.POSTED) return this.handleIpis() > 0;
    return false;
  }

  private readonly ipiReq: FlushRequest = { kind: 0, asid: 0, start: 0, end: 0, which: 0 };
  private readonly applyIpi = (r: FlushRequest): void => {
    invalidateCpu(this.i32, this.L, this.id, r, true);
    if (r.which & Which.LAZY_LEAVE && this.lazyAsid >= 0 && this.asid >= 0) this.leaveMmLazily();
  };
  /** Take the pending IPI now (callers check interrupts are enabled). Returns how many were taken. */
  handleIpis(): number {
    if (this.rec !== null) {
      const b = this.L.inbox(this.id, 0);
      this.rec.ev(Ev.IPI_HANDLE, Atomics.load(this.i32, b + M.SENDER), Atomics.load(this.i32, b + M.SERIAL), Atomics.load(this.i32, b + M.KIND));
    }
    const n = handlePosted(this.i32, this.L, this.id, this.ipiReq, this.applyIpi);
    this.f64[this.ctr + K.ipisReceived] += n;
    return n;
  }

  // ------------------------------------------- flushes (flush-initiator.ts)

  /**
   * flush_tlb_*: invalidate `r` here and on the other CPUs (by IPI to those of
   * `mask`, or by hardware broadcast), and return once none can use it.
   */
  flush(r: FlushRequest, mask: number): void {
    this.flusher.flush(r, mask);
  }

  /** Flush only this CPU's caches (local_flush_tlb_*). */
  flushLocal(r: FlushRequest): void {
    this.flusher.flushLocal(r);
  }

  /** An IPI that invalidates nothing (tlb_remove_table_sync_one); `which` may carry Which.LAZY_LEAVE. */
  syncIpi(mask: number, which = 0): void {
    this.flusher.syncIpi(mask, which);
  }

  /** Post r to every CPU of targets and wait for each acknowledgement. */
  ipiMany(targets: number, r: FlushRequest): void {
    this.flusher.ipiMany(targets, r);
  }
}
