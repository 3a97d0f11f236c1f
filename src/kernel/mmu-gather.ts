import { FlushKind, FrameKind, Which } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { lazyCpus } from '../machine/lazy.js';
import type { FlushRequest } from '../machine/tlb.js';
import { flushTargets, freesTables } from './lazy-tlb.js';
import { type FlushClass, type FreedKind, type GatherStats, type TraceEvent, emptyStats } from './gather-trace.js';
import type { Mm, Vma } from './mm.js';
import { STEP_NAMES, Step, syscallCode, kernelOp } from './ops.js';
import type { GatherOps } from './policies/gather-ops.js';
import type { TlbPolicy } from './policies/types.js';
import type { Quicklist } from './quicklist.js';

/**
 * mmu_gather: the kernel's batching machine for "unhook, invalidate, free"
 * (include/asm-generic/tlb.h, mm/mmu_gather.c; docs/domain.md section 2).
 *
 * This class holds the state every generation of the code has had: the mm,
 * fullmm, the tracked range [start, end), need_flush (2011) and freed_tables /
 * cleared_ptes / cleared_pmds / cleared_puds (4.19+), vma_exec / vma_huge, the
 * last vma seen (ARM's tlb->vma), a batch of pages and a batch of tables.
 * Which of them an architecture uses, and when it flushes and frees, is the
 * policy's business (policies/*.ts): each public call below bumps the
 * operation count, names the kernel step in flight (Cpu.setKernelOp), and
 * hands over to one policy hook.
 *
 * The primitives the policies use keep the one ordering that matters visible
 * in the trace: a flush event precedes the free events it covers. Nothing here
 * enforces that ordering: getting it wrong is what the broken policies model.
 *
 * Callers must only hand a frame to the gather after clearing the entry that
 * pointed to it (ptep_get_and_clear, pmd_clear), and must call tlbFinishMmu
 * exactly once.
 */

export interface GatherOptions {
  /** Pages per batch before a forced tlb_flush_mmu (default 500, ARM's FREE_PTE_NR). */
  batchCapacity?: number;
  /** Tables per table batch (tlb_remove_table, linux-6), default: batchCapacity. */
  tableBatchCapacity?: number;
  /**
   * Whether the page that holds the table batch can be allocated
   * (tlb_remove_table's __get_free_page(GFP_NOWAIT), which fails under
   * memory pressure): 'fails' sends every table down the kernel's fallback
   * path, tlb_remove_table_one. Default 'ok'.
   */
  tableBatchAlloc?: 'ok' | 'fails';
  /** The syscall this gather serves, for kernel-op codes (ops.ts Syscall). */
  syscall?: number;
  /** Called after each trace event (tests and harness use it to stage races). */
  onTrace?: (ev: TraceEvent, tlb: MmuGather) => void;
  /** This CPU's page-table quicklist, for policies whose pte_free goes there (Kernel supplies it). */
  quicklist?: Quicklist | null;
}

export const DEFAULT_BATCH_CAPACITY = 500;

interface Queued {
  frame: number;
  what: FreedKind;
  /** Operation count when queued. */
  seq: number;
}

const WHAT_OF_LEVEL: Record<number, FreedKind> = { 1: 'pte-table', 2: 'pmd-table' };

export class MmuGather implements GatherOps {
  readonly cpu: Cpu;
  readonly mm: Mm;
  readonly policy: TlbPolicy;
  fullmm: boolean;
  /** Tracked range [start, end); empty when end <= start (reset: start = TASK_SIZE, end = 0). */
  start: number;
  end = 0;
  /** 2011 generation: something was unmapped since the last flush. */
  needFlush = false;
  /** 4.19+ generation: tables were freed / entries cleared at these levels since the last flush. */
  freedTables = false;
  clearedPtes = false;
  clearedPmds = false;
  clearedPuds = false;
  vmaExec = false;
  vmaHuge = false;
  /** The last vma passed to tlb_start_vma (ARM's tlb->vma); null if none was seen. */
  vma: Vma | null = null;
  /** Pages (and, for the generations that batch them there, tables) waiting for a flush. */
  readonly pages: Queued[] = [];
  /** Tables waiting in the separate table batch (tlb_remove_table). */
  readonly tables: Queued[] = [];
  readonly batchCapacity: number;
  readonly tableBatchCapacity: number;
  /** tlb_remove_table cannot allocate its batch page (GatherOptions.tableBatchAlloc). */
  readonly tableBatchAllocFails: boolean;
  readonly syscall: number;
  readonly trace: TraceEvent[] = [];
  readonly stats: GatherStats = emptyStats();
  /** TASK_SIZE in vpn: the end of the address space. */
  readonly taskSize: number;
  finished = false;
  readonly quicklist: Quicklist | null;
  private readonly onTrace?: (ev: TraceEvent, tlb: MmuGather) => void;
  private step: number = Step.NONE;

  constructor(cpu: Cpu, mm: Mm, fullmm: boolean, policy: TlbPolicy, opts: GatherOptions = {}) {
    this.cpu = cpu;
    this.mm = mm;
    this.fullmm = fullmm;
    this.policy = policy;
    this.taskSize = cpu.L.vpnLimit;
    this.start = this.taskSize;
    this.batchCapacity = opts.batchCapacity ?? DEFAULT_BATCH_CAPACITY;
    this.tableBatchCapacity = opts.tableBatchCapacity ?? this.batchCapacity;
    this.tableBatchAllocFails = opts.tableBatchAlloc === 'fails';
    if (!(this.batchCapacity >= 1) || !(this.tableBatchCapacity >= 1)) throw new Error('batch capacities must be at least 1');
    this.syscall = opts.syscall ?? syscallCode('none');
    this.onTrace = opts.onTrace;
    this.quicklist = opts.quicklist ?? null;
  }

  // ------------------------------------------------------------ kernel API
  //
  // Each call names its step and hands over to the policy's hook, or, where
  // the policy leaves a hook out, to the generic default (TlbPolicy says which).

  /** tlb_gather_mmu: raises mm->tlb_flush_pending (harmless for the 2011 policies, which never read it). */
  begin(): this {
    this.enter(Step.TLB_GATHER_MMU, 0);
    this.mm.tlbFlushPending.inc();
    if (this.policy.gather) this.policy.gather(this);
    else this.resetRange();
    return this;
  }

  tlbStartVma(vma: Vma): void {
    this.enter(Step.TLB_START_VMA, vma.start);
    this.policy.tlbStartVma?.(this, vma);
  }

  tlbRemoveTlbEntry(vpn: number): void {
    this.enter(Step.TLB_REMOVE_TLB_ENTRY, vpn);
    if (this.policy.tlbRemoveTlbEntry) this.policy.tlbRemoveTlbEntry(this, vpn);
    else this.adjustRange(vpn, vpn + 1);
  }

  tlbRemovePage(frame: number): void {
    this.enter(Step.TLB_REMOVE_PAGE, frame);
    if (this.policy.tlbRemovePage) this.policy.tlbRemovePage(this, frame);
    else if (this.queuePage(frame)) this.flushMmu();
  }

  /** pte_free_tlb: PTE table `table`, unhooked, mapped [vpn, vpn + entries). */
  pteFreeTlb(table: number, vpn: number): void {
    this.enter(Step.PTE_FREE_TLB, table);
    this.freeTable(1, table, vpn, vpn + this.cpu.L.W);
  }

  /** pmd_free_tlb: PMD table `table`, unhooked, mapped [vpn, vpn + entries^2). */
  pmdFreeTlb(table: number, vpn: number): void {
    this.enter(Step.PMD_FREE_TLB, table);
    this.freeTable(2, table, vpn, vpn + this.cpu.L.W * this.cpu.L.W);
  }

  tlbEndVma(vma: Vma): void {
    this.enter(Step.TLB_END_VMA, vma.start);
    this.policy.tlbEndVma?.(this, vma);
  }

  tlbFlushMmu(): void {
    this.enter(Step.TLB_FLUSH_MMU, 0);
    this.policy.tlbFlushMmu(this);
  }

  /** tlb_finish_mmu(tlb, start, end): final flush and frees; drops tlb_flush_pending. */
  tlbFinishMmu(start = 0, end = this.taskSize): void {
    if (this.finished) throw new Error('tlb_finish_mmu called twice');
    this.enter(Step.TLB_FINISH_MMU, start);
    if (this.policy.tlbFinishMmu) this.policy.tlbFinishMmu(this, start, end);
    else this.policy.tlbFlushMmu(this);
    this.finished = true;
    this.mm.tlbFlushPending.dec();
    if (this.pages.length || this.tables.length) throw new Error(`${this.policy.name}: tlb_finish_mmu left ${this.pages.length + this.tables.length} frames unfreed`);
  }

  private freeTable(level: 1 | 2, table: number, vpn: number, spanEnd: number): void {
    if (this.policy.freeTable) this.policy.freeTable(this, level, table, vpn, spanEnd);
    else {
      this.adjustRange(vpn, vpn + 1);
      if (this.queueTableAsPage(level, table)) this.flushMmu();
    }
  }

  // ------------------------------------------------- primitives for policies

  /**
   * tlb_flush_mmu forced from inside another operation (a full batch): the
   * policy's hook, with the step named so the frees it makes are attributed
   * to it (the kernel does it inside tlb_remove_page, or in zap_pte_range on
   * force_flush).
   */
  flushMmu(): void {
    this.enterStep(Step.TLB_FLUSH_MMU);
    this.policy.tlbFlushMmu(this);
  }

  /** __tlb_adjust_range / tlb_add_flush. */
  adjustRange(start: number, end: number): void {
    if (start < this.start) this.start = start;
    if (end > this.end) this.end = end;
  }

  /** __tlb_reset_range (also clears freed_tables and cleared_*; keeps vma_*). */
  resetRange(): void {
    this.start = this.taskSize;
    this.end = 0;
    this.freedTables = false;
    this.clearedPtes = false;
    this.clearedPmds = false;
    this.clearedPuds = false;
  }

  get hasRange(): boolean {
    return this.end > this.start;
  }

  /** flush_tlb_range(mm, start, end) for the `which` caches; nothing if the range is empty. */
  flushRange(start: number, end: number, which: number): void {
    if (!(end > start)) return;
    this.issue({ kind: FlushKind.RANGE, asid: this.mm.asid, start, end, which }, end - start === 1 ? 'page' : 'range');
  }

  /** flush_tlb_mm: every entry of the address space, walk caches included. */
  flushMm(): void {
    this.issue({ kind: FlushKind.ASID, asid: this.mm.asid, start: 0, end: 0, which: Which.ALL }, 'mm');
  }

  /** flush_tlb_all. */
  flushAll(): void {
    this.issue({ kind: FlushKind.ALL, asid: this.mm.asid, start: 0, end: 0, which: Which.ALL }, 'all');
  }

  /** Free a frame at once (the caller has unhooked it; whether it was invalidated is the policy's problem). */
  freeNow(frame: number, what: FreedKind): void {
    this.cpu.freeFrame(frame);
    this.countFree(what, false, 0);
    this.emit({ t: 'free', seq: this.stats.ops, frame, what, delayed: false, delay: 0, by: this.stepName() });
  }

  freeTableNow(level: number, table: number): void {
    this.freeNow(table, WHAT_OF_LEVEL[level]);
  }

  /**
   * pte_free / pmd_free on an architecture with a page-table quicklist: the
   * table goes on this CPU's list (nobody else can get it before a trim);
   * levels the list does not serve are freed at once.
   */
  quicklistFree(level: number, table: number): void {
    const q = this.quicklist;
    if (!q || !q.serves(level)) {
      this.freeTableNow(level, table);
      return;
    }
    q.free(table);
    this.stats.frees.parked++;
    this.emit({ t: 'park', seq: this.stats.ops, frame: table, what: WHAT_OF_LEVEL[level], by: this.stepName() });
  }

  /**
   * check_pgt_cache: trim the quicklist back to the allocator. Policies call
   * it where the kernel does, after tlb_finish_mmu's flush, so every table
   * it gives back has been invalidated everywhere first.
   */
  checkPgtCache(): void {
    const q = this.quicklist;
    if (!q) return;
    for (const frame of q.trim()) {
      this.countFree('pte-table', true, 0);
      this.emit({ t: 'free', seq: this.stats.ops, frame, what: 'pte-table', delayed: true, delay: 0, by: 'check_pgt_cache' });
    }
  }

  /** Queue into the page batch; returns true when the batch is now full (the caller must flush). */
  queuePage(frame: number, what: FreedKind = 'data'): boolean {
    this.pages.push({ frame, what, seq: this.stats.ops });
    return this.pages.length >= this.batchCapacity;
  }

  /** Queue a table of `level` into the page batch (__pte_free_tlb → tlb_remove_page). */
  queueTableAsPage(level: number, table: number): boolean {
    return this.queuePage(table, WHAT_OF_LEVEL[level]);
  }

  /** Queue into the table batch (tlb_remove_table); returns true when it is full. */
  queueTable(level: number, table: number): boolean {
    this.tables.push({ frame: table, what: WHAT_OF_LEVEL[level], seq: this.stats.ops });
    return this.tables.length >= this.tableBatchCapacity;
  }

  /** Free the table batch, oldest first. */
  freeTableBatch(): void {
    this.drain(this.tables);
  }

  /** Free the page batch, oldest first (tlb_batch_pages_flush). */
  freePageBatch(): void {
    this.drain(this.pages);
  }

  /** tlb_remove_table_sync_one: an IPI to the mm's CPUs that returns once each has interrupts on. */
  syncIpi(opts: { leaveLazy?: boolean; select?: 'all' | 'not-lazy' } = {}): void {
    let mask = this.cpu.pt.cpumask(this.mm.asid);
    if (opts.select === 'not-lazy') mask &= ~lazyCpus(this.cpu.i32, this.cpu.L, mask);
    this.cpu.syncIpi(mask, opts.leaveLazy ? Which.LAZY_LEAVE : 0);
    this.stats.syncIpis++;
    this.emit({ t: 'sync', seq: this.stats.ops, mask, by: this.stepName() });
  }

  /** Whether some remote invalidation is by hardware broadcast (a flush need not wait for an IPI). */
  get broadcastFlush(): boolean {
    return this.cpu.L.cfg.flush !== 'ipi';
  }

  /** Name a sub-step in flight (e.g. tlb_flush_mmu forced from tlb_remove_page). */
  enterStep(step: number, arg = 0): void {
    this.step = step;
    this.cpu.setKernelOp(kernelOp(this.syscall, step), arg);
  }

  // -------------------------------------------------------------- internals

  private enter(step: number, arg: number): void {
    if (this.finished) throw new Error(`${STEP_NAMES[step]} on a finished mmu_gather`);
    this.stats.ops++;
    this.enterStep(step, arg);
  }

  private stepName(): string {
    return STEP_NAMES[this.step] ?? `step ${this.step}`;
  }

  private issue(r: FlushRequest, cls: FlushClass): void {
    const which = r.which;
    this.cpu.flush(r, flushTargets(this.cpu, this.policy.lazyTlb, r, freesTables(r)));
    r.which = which;
    const f = this.stats.flushes;
    f[cls]++;
    f.total++;
    if (r.which & Which.ITLB) f.itlb++;
    if (r.which & Which.WALK) f.walk++;
    this.emit({ t: 'flush', seq: this.stats.ops, cls, kind: r.kind, asid: r.asid, start: r.start, end: r.end, which: r.which, by: this.stepName() });
  }

  private drain(q: Queued[]): void {
    // Take the batch first: a hook may run more gather code while we free.
    const items = q.splice(0, q.length);
    for (const it of items) {
      this.cpu.freeFrame(it.frame);
      const delay = this.stats.ops - it.seq;
      this.countFree(it.what, true, delay);
      this.emit({ t: 'free', seq: this.stats.ops, frame: it.frame, what: it.what, delayed: true, delay, by: this.stepName() });
    }
  }

  private countFree(what: FreedKind, delayed: boolean, delay: number): void {
    const s = this.stats.frees;
    if (what === 'data') s.data++;
    else s.tables++;
    if (delayed) {
      s.delayed++;
      s.delaySum += delay;
      if (delay > s.delayMax) s.delayMax = delay;
    } else s.immediate++;
  }

  private emit(ev: TraceEvent): void {
    this.trace.push(ev);
    this.onTrace?.(ev, this);
  }
}

/** FrameKind of a queued or freed kind (for checks against the allocator). */
export function frameKindOf(what: FreedKind): number {
  return what === 'data' ? FrameKind.DATA : what === 'pte-table' ? FrameKind.TABLE_PTE : FrameKind.TABLE_PMD;
}

// Kernel-named entry points, for code that reads like mm/memory.c.

export function tlb_gather_mmu(cpu: Cpu, mm: Mm, fullmm: boolean, policy: TlbPolicy, opts?: GatherOptions): MmuGather {
  return new MmuGather(cpu, mm, fullmm, policy, opts).begin();
}
export const tlb_start_vma = (tlb: MmuGather, vma: Vma): void => tlb.tlbStartVma(vma);
export const tlb_end_vma = (tlb: MmuGather, vma: Vma): void => tlb.tlbEndVma(vma);
export const tlb_remove_tlb_entry = (tlb: MmuGather, vpn: number): void => tlb.tlbRemoveTlbEntry(vpn);
export const tlb_remove_page = (tlb: MmuGather, frame: number): void => tlb.tlbRemovePage(frame);
export const pte_free_tlb = (tlb: MmuGather, table: number, vpn: number): void => tlb.pteFreeTlb(table, vpn);
export const pmd_free_tlb = (tlb: MmuGather, table: number, vpn: number): void => tlb.pmdFreeTlb(table, vpn);
export const tlb_flush_mmu = (tlb: MmuGather): void => tlb.tlbFlushMmu();
export const tlb_finish_mmu = (tlb: MmuGather, start?: number, end?: number): void => tlb.tlbFinishMmu(start, end);
