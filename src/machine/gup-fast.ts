import { frameIsCurrent } from './checker.js';
import { CpuOp, FrameKind, PTE_FRAME_MASK, Pte, ViolationKind } from './constants.js';
import type { Cpu } from './cpu.js';
import { A, F, K } from './layout.js';
import { Ev } from './recorder.js';

/** Stages of a gup_fast walk: the table level to read next, then the reference, then the recheck. */
const GupStage = { NONE: 0, PTE: 1, PMD: 2, PGD: 3, PIN: 4, RECHECK: 5 } as const;

/**
 * gup_fast (get_user_pages_fast): a lockless software walk of the page tables
 * with interrupts off, one table level per step, then per page a PTE read, a
 * reference and (speculative mode) a recheck. One per Cpu (Cpu.gup);
 * Cpu.gupBegin, gupStep and inGup delegate here, and the run loop drives it
 * one step at a time with other instructions in between (workload.gupGap).
 *
 * Protocol. begin(): interrupts off, read the address space's pgd. step(): the
 * next of pgd entry → pmd entry → PTE (each read through Cpu.readEntry, which
 * checks that the table is still the allocation the pointer was read for),
 * then the reference; in speculative mode the recheck of the pmd and the PTE;
 * then the next page of the same PTE table, or the end: interrupts on, the
 * pins released (the caller's put_page once it is done with the pages).
 *
 * What protects the walk against a concurrent free:
 * - Interrupts are off from begin() to the end, so an IPI-flushing freer
 *   (flush-initiator.ts) cannot get this CPU's acknowledgement, and so cannot
 *   free, until the walk is over.
 * - A broadcast flush does not wait for it: the run loop passes a quiescence
 *   point (EPOCH) between the steps of the walk, and the initiator waits only
 *   for instructions in flight, as the DSB after a broadcast TLBI does, not
 *   for a software walker with interrupts off. That is race 5.4: a table freed
 *   after a broadcast flush while a walk is still reading it, caught as
 *   GUP_TABLE by readEntry.
 * - The page itself, by the kernel's mode (cfg.gupFast). 'irq-off': disabled
 *   interrupts alone hold off an IPI-flushing freer, and get_page trusts that
 *   the page is still the one mapped; if it was freed or reused meanwhile that
 *   is a violation (GUP_PIN). 'speculative': the reference fails on a page
 *   whose count reached zero, and a reference that succeeded is dropped again
 *   if the pmd or the PTE changed since they were read: both are back-offs
 *   (counted, the kernel's slow path takes over), never violations. A page
 *   referenced and rechecked is one the freeing side has not put yet, so the
 *   freer's put leaves it allocated until the pin is released.
 */
export class GupFast {
  /** A GupStage (NONE: no walk in progress). */
  stage = 0;
  private vpn = 0;
  /** Pages left to pin after the current one (same PTE table). */
  private left = 0;
  /** The table the next read goes to (or, at PIN and RECHECK, the data frame) and its generation. */
  private table = 0;
  private gen = 0;
  /** The PMD table the walk read its pmd entry from, its generation, and the entry read. */
  private pmdTable = 0;
  private pmdGen = 0;
  private pmdVal = 0;
  /** The PTE table the walk reached, its generation at the pointer, and the PTE read. */
  private pteTable = 0;
  private pteGen = 0;
  private pteVal = 0;
  /** Frames pinned by the walk in progress, released (put_page) when it ends. */
  private readonly pinned: Int32Array;
  private pinnedN = 0;
  private readonly speculative: boolean;
  private readonly ctr: number;
  private readonly W: number;
  private readonly shift: number;

  constructor(private readonly cpu: Cpu) {
    const L = cpu.L;
    this.speculative = L.cfg.gupFast === 'speculative';
    this.pinned = new Int32Array(L.W);
    this.ctr = L.counter(cpu.id, 0);
    this.W = L.W;
    this.shift = L.shift;
  }

  /** Start a walk of `pages` pages from vpn (see the header). */
  begin(vpn: number, pages = 1): void {
    const cpu = this.cpu;
    cpu.f64[this.ctr + K.gupWalks]++;
    cpu.setIrq(false);
    this.vpn = vpn;
    const inTable = this.W - (vpn & (this.W - 1));
    this.left = Math.min(Math.max(1, pages), inTable) - 1;
    this.pinnedN = 0;
    this.stage = GupStage.PGD;
    this.table = Atomics.load(cpu.i32, cpu.L.space(cpu.asid, A.PGD_FRAME));
    this.gen = Atomics.load(cpu.i32, cpu.L.space(cpu.asid, A.PGD_GEN));
  }

  /** One step of the walk; returns true when the walk is over. */
  step(): boolean {
    const cpu = this.cpu;
    const vpn = this.vpn;
    const prev = cpu.op;
    cpu.op = CpuOp.GUP_FAST;
    const stage = this.stage;
    let done = false;
    if (stage === GupStage.PGD || stage === GupStage.PMD || stage === GupStage.PTE) done = this.read(stage, vpn);
    else if (stage === GupStage.PIN) done = this.pin(vpn);
    else done = this.recheck(vpn);
    cpu.op = prev;
    if (cpu.rec !== null) cpu.rec.ev(Ev.GUP, stage === GupStage.PIN ? 0 : stage === GupStage.RECHECK ? 4 : stage, vpn, done ? 1 : 0);
    if (done) this.end();
    return done;
  }

  /** Read the entry for vpn at level `stage` (3 pgd, 2 pmd, 1 PTE). Returns true if the walk ends (none, or a violation). */
  private read(stage: number, vpn: number): boolean {
    const cpu = this.cpu;
    const idx = (vpn >>> (this.shift * (stage - 1))) & (this.W - 1);
    const table = this.table;
    const tableGen = this.gen;
    const e = cpu.readEntry(table, tableGen, stage, idx, vpn, ViolationKind.GUP_TABLE);
    if (e < 0 || !(e & Pte.PRESENT)) return true;
    this.table = e & PTE_FRAME_MASK;
    this.gen = cpu.lastShadow;
    if (stage === GupStage.PMD) {
      this.pmdTable = table;
      this.pmdGen = tableGen;
      this.pmdVal = e;
      this.pteTable = this.table;
      this.pteGen = this.gen;
    } else if (stage === GupStage.PTE) this.pteVal = e;
    this.stage = stage === GupStage.PTE ? GupStage.PIN : stage - 1;
    return false;
  }

  /** Take the page reference. Returns true if the walk ends. */
  private pin(vpn: number): boolean {
    const cpu = this.cpu;
    const frame = this.table;
    if (this.speculative) {
      if (!cpu.alloc.tryGet(frame)) return this.backoff();
      this.stage = GupStage.RECHECK;
      return false;
    }
    // get_page: the walker trusts that the page is still the one the PTE
    // mapped when it read it; the checker finds out whether it was right.
    if (!frameIsCurrent(cpu.i32, cpu.L, frame, this.gen, FrameKind.DATA) || cpu.alloc.get(frame) === 0) {
      cpu.violation(ViolationKind.GUP_PIN, vpn, frame, this.gen, 0);
      return true;
    }
    // The reference may have landed on a reallocation that came between the
    // check and the increment; then the page is not the one mapped either.
    if (Atomics.load(cpu.i32, cpu.L.frame(frame, F.GEN)) !== this.gen) {
      cpu.violation(ViolationKind.GUP_PIN, vpn, frame, this.gen, 0);
      this.pinned[this.pinnedN++] = frame;
      return true;
    }
    this.pinned[this.pinnedN++] = frame;
    return this.next();
  }

  /**
   * Speculative mode: with the reference held, read the pmd and the PTE again;
   * if either changed the page may be on its way out (or gone and reused):
   * drop the reference and back off. Returns true if the walk ends.
   */
  private recheck(vpn: number): boolean {
    const cpu = this.cpu;
    const frame = this.table;
    const m = this.W - 1;
    const pmd = cpu.readEntry(this.pmdTable, this.pmdGen, 2, (vpn >>> this.shift) & m, vpn, ViolationKind.GUP_TABLE);
    const pte = pmd === this.pmdVal ? cpu.readEntry(this.pteTable, this.pteGen, 1, vpn & m, vpn, ViolationKind.GUP_TABLE) : -1;
    if (pmd !== this.pmdVal || pte !== this.pteVal) {
      cpu.alloc.put(frame, cpu.id, 0, 0);
      // A table read that was itself a violation ends the walk as one.
      return pmd < 0 || (pmd === this.pmdVal && pte < 0) ? true : this.backoff();
    }
    this.pinned[this.pinnedN++] = frame;
    // The PTE is unchanged and the page referenced: it must be the
    // allocation the PTE maps now (lastShadow: its generation at this read).
    if (!frameIsCurrent(cpu.i32, cpu.L, frame, cpu.lastShadow, FrameKind.DATA)) {
      cpu.violation(ViolationKind.GUP_PIN, vpn, frame, cpu.lastShadow, 0);
      return true;
    }
    return this.next();
  }

  /** The next page of the same PTE table, if any are left. Returns true if the walk ends. */
  private next(): boolean {
    this.cpu.f64[this.ctr + K.gupPins]++;
    if (this.left <= 0) return true;
    this.left--;
    this.vpn++;
    this.table = this.pteTable;
    this.gen = this.pteGen;
    this.stage = GupStage.PTE;
    return false;
  }

  private backoff(): boolean {
    const cpu = this.cpu;
    cpu.f64[this.ctr + K.gupBackoffs]++;
    if (cpu.rec !== null) cpu.rec.ev(Ev.GUP, 5, this.vpn, 1);
    return true;
  }

  /** Interrupts on, then release the pins (the caller's put_page once it is done with the pages). */
  private end(): void {
    const cpu = this.cpu;
    this.stage = GupStage.NONE;
    cpu.setIrq(true);
    for (let i = 0; i < this.pinnedN; i++) cpu.alloc.put(this.pinned[i], cpu.id, 0, 0);
    this.pinnedN = 0;
  }
}
