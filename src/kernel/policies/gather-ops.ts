import type { FreedKind } from '../gather-trace.js';
import type { Mm, Vma } from '../mm.js';

/**
 * What an architecture's mmu_gather code may see and do: the gather's state
 * and the primitives the generic code offers it, and nothing else. The
 * generic gather (MmuGather) implements this; a policy (TlbPolicy) is written
 * against it alone, the way an asm/tlb.h is written against what
 * include/asm-generic/tlb.h provides.
 *
 * The one ordering every policy must keep, and that nothing here enforces
 * (getting it wrong is what the broken policies model): a frame handed to the
 * gather has been unhooked by its caller; it may go back to the allocator
 * (freeNow, freeTableNow, freePageBatch, freeTableBatch) only after a flush
 * (flushRange, flushMm, flushAll) has removed every cached translation through
 * it on every CPU, and, where lockless walkers rely on interrupts being off
 * but the flush interrupted nobody, after syncIpi as well.
 */
export interface GatherOps {
  readonly mm: Mm;
  /** The whole address space is going (exit). Some generations set it late (a nested finish). */
  fullmm: boolean;
  /** The tracked range [start, end) in pages; empty when end <= start. */
  start: number;
  end: number;
  readonly hasRange: boolean;
  /** The end of the address space (TASK_SIZE in pages). */
  readonly taskSize: number;
  /** 2011 generation: something was unmapped since the last flush. */
  needFlush: boolean;
  /** 4.19+ generation: tables freed / entries cleared at these levels since the last flush. */
  freedTables: boolean;
  clearedPtes: boolean;
  clearedPmds: boolean;
  clearedPuds: boolean;
  /** The flags of the vmas gathered (today's vma_exec / vma_huge). */
  vmaExec: boolean;
  vmaHuge: boolean;
  /** The last vma passed to tlb_start_vma (ARM's tlb->vma); null if none was seen. */
  vma: Vma | null;
  /** Tables waiting in the table batch. */
  readonly tables: readonly unknown[];
  /** Whether some remote invalidation is by hardware broadcast (a flush interrupts nobody). */
  readonly broadcastFlush: boolean;
  /** tlb_remove_table cannot allocate its batch page: tables take the fallback (tlb_remove_table_one). */
  readonly tableBatchAllocFails: boolean;

  /** __tlb_adjust_range / tlb_add_flush: widen the tracked range. */
  adjustRange(start: number, end: number): void;
  /** __tlb_reset_range: empty range, freed_tables and cleared_* cleared (vma_* kept). */
  resetRange(): void;
  /** flush_tlb_range for the `which` caches (Which.*); nothing if the range is empty. */
  flushRange(start: number, end: number, which: number): void;
  /** flush_tlb_mm: every entry of the mm, walk caches included. */
  flushMm(): void;
  flushAll(): void;
  /** tlb_flush_mmu, forced (a full batch): the policy's own hook, with the step named for the frees it makes. */
  flushMmu(): void;
  /** Free a frame at once. */
  freeNow(frame: number, what: FreedKind): void;
  freeTableNow(level: number, table: number): void;
  /** pte_free onto this CPU's page-table quicklist (levels it does not serve are freed at once). */
  quicklistFree(level: number, table: number): void;
  /** check_pgt_cache: trim the quicklist back to the allocator (call it after the flush that covers every parked table). */
  checkPgtCache(): void;
  /** Queue into the page batch; true when it is full (the caller must flush). */
  queuePage(frame: number, what?: FreedKind): boolean;
  /** Queue a table into the page batch (__pte_free_tlb → tlb_remove_page); true when full. */
  queueTableAsPage(level: number, table: number): boolean;
  /** Queue into the table batch (tlb_remove_table); true when full. */
  queueTable(level: number, table: number): boolean;
  freePageBatch(): void;
  freeTableBatch(): void;
  /**
   * tlb_remove_table_sync_one: an IPI to the mm's CPUs, returning once each
   * has interrupts on. `opts.leaveLazy`: the handler makes a CPU in lazy TLB
   * mode leave the mm; `opts.select`: only the CPUs not in lazy mode.
   */
  syncIpi(opts?: { leaveLazy?: boolean; select?: 'all' | 'not-lazy' }): void;
  /** Name the kernel step in flight (Step.*), so that frees are attributed to it. */
  enterStep(step: number, arg?: number): void;
}
