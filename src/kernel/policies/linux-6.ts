import { Which } from '../../machine/constants.js';
import type { MmuGather } from '../mmu_gather.js';
import type { Vma } from '../mm.js';
import { Step } from '../ops.js';
import { forceFlush } from './common.js';
import type { PolicyFactory, PolicyOptions, TlbPolicy } from './types.js';

/**
 * linux-6: today's generic code (include/asm-generic/tlb.h, mm/mmu_gather.c)
 * with MMU_GATHER_TABLE_FREE / MMU_GATHER_RCU_TABLE_FREE and the default
 * range-based tlb_flush().
 *
 *   tlb_gather_mmu        __tlb_reset_range; inc_tlb_flush_pending(mm)
 *   tlb_start_vma         (if !fullmm) vma_exec / vma_huge = the vma's flags
 *   tlb_remove_tlb_entry  __tlb_adjust_range(addr, PAGE_SIZE); cleared_ptes = 1
 *   tlb_remove_page       batched; full → tlb_flush_mmu
 *   pte_free_tlb          __tlb_adjust_range(addr, PAGE_SIZE) (one page: the
 *                         "legacy" rule that a page flush drops the paging-
 *                         structure caches behind it); freed_tables = 1;
 *                         cleared_pmds = 1; tlb_remove_table (table batch)
 *   pmd_free_tlb          the same with cleared_puds
 *   tlb_end_vma           (if !fullmm) tlb_flush_mmu_tlbonly
 *   tlb_flush_mmu_tlbonly if no freed_tables / cleared_* bit: nothing; else
 *                         tlb_flush: fullmm → flush_tlb_mm, else
 *                         flush_tlb_range(start, end) whose `which` has WALK
 *                         when freed_tables (arm64's !last_level TLBI, x86's
 *                         freed_tables argument) and ITLB when vma_exec;
 *                         then __tlb_reset_range (vma_* kept)
 *   tlb_flush_mmu         tlbonly, then tlb_table_flush (invalidate, then the
 *                         RCU-deferred free of the tables), then the pages
 *   tlb_finish_mmu        if mm_tlb_flush_nested (tlb_flush_pending > 1):
 *                         fullmm = 1, reset range, freed_tables = 1; then
 *                         tlb_flush_mmu; dec_tlb_flush_pending
 *
 * The RCU deferral is modelled as the kernel's fallback does it: with
 * hardware-broadcast flushes nobody was interrupted, so a gup_fast walker
 * with interrupts off may still be reading a table; the tables are freed only
 * after the flush AND a synchronising IPI (tlb_remove_table_sync_one) to the
 * mm's CPUs has been acknowledged, which cannot happen inside such a walk.
 * The kernel's smp_call_function reaches every online CPU; the mm's cpumask
 * (bits are never cleared in the machine, lazy CPUs included) is every CPU
 * that can walk this mm's tables. With IPI flushes the flush itself waited
 * for those CPUs, so the tables are freed right after it.
 *
 * Why the order is right: unhook; invalidate TLB and walk caches of the range
 * (WALK when tables went); wait out lockless walkers; free tables, then pages.
 *
 * Option nested: 'range-drops-freed-tables' reproduces 4.20-5.1, where a
 * nested finish did __tlb_reset_range + __tlb_adjust_range(start, end): the
 * forced flush was a leaf-only flush of the caller's range, dropping
 * freed_tables (fixed by "mm: mmu_gather: remove __tlb_reset_range() for
 * force flush", 2019; domain.md race 9).
 */
class Linux6 implements TlbPolicy {
  readonly name = 'linux-6';
  /** mm/mremap.c move_ptes: one flush_tlb_range of the old extent under the PTE locks (eb66ae030829). */
  readonly moveFlush = 'once' as const;
  constructor(private readonly nested: 'full' | 'range-drops-freed-tables') {}

  gather(tlb: MmuGather): void {
    tlb.resetRange();
  }
  tlbStartVma(tlb: MmuGather, vma: Vma): void {
    if (tlb.fullmm) return;
    tlb.vmaExec = vma.exec;
    tlb.vmaHuge = vma.huge;
  }
  tlbRemoveTlbEntry(tlb: MmuGather, vpn: number): void {
    tlb.adjustRange(vpn, vpn + 1);
    tlb.clearedPtes = true;
  }
  tlbRemovePage(tlb: MmuGather, frame: number): void {
    if (tlb.queuePage(frame)) forceFlush(tlb);
  }
  freeTable(tlb: MmuGather, level: 1 | 2, table: number, vpn: number): void {
    tlb.adjustRange(vpn, vpn + 1);
    tlb.freedTables = true;
    if (level === 1) tlb.clearedPmds = true;
    else tlb.clearedPuds = true;
    if (tlb.queueTable(level, table)) this.tableFlush(tlb);
  }
  tlbEndVma(tlb: MmuGather): void {
    if (!tlb.fullmm) this.tlbOnly(tlb);
  }
  tlbFlushMmu(tlb: MmuGather): void {
    this.tlbOnly(tlb);
    this.tableFlush(tlb);
    tlb.freePageBatch();
  }
  tlbFinishMmu(tlb: MmuGather, start: number, end: number): void {
    if (tlb.mm.tlbFlushPending.read() > 1) {
      if (this.nested === 'full') {
        tlb.fullmm = true;
        tlb.resetRange();
        tlb.freedTables = true;
      } else {
        tlb.resetRange();
        tlb.adjustRange(start, end);
        // 4.20's tlbonly tested tlb->end, not the level bits: the flush happens, leaf-only.
        tlb.clearedPtes = true;
      }
    }
    this.tlbFlushMmu(tlb);
  }

  private tlbOnly(tlb: MmuGather): void {
    if (!(tlb.freedTables || tlb.clearedPtes || tlb.clearedPmds || tlb.clearedPuds)) return;
    if (tlb.fullmm) tlb.flushMm();
    else tlb.flushRange(tlb.start, tlb.end, Which.DTLB | (tlb.vmaExec ? Which.ITLB : 0) | (tlb.freedTables ? Which.WALK : 0));
    tlb.resetRange();
  }

  /** tlb_table_flush: tlb_table_invalidate, then the RCU-deferred free. */
  private tableFlush(tlb: MmuGather): void {
    if (!tlb.tables.length) return;
    tlb.enterStep(Step.TLB_TABLE_FLUSH);
    this.tlbOnly(tlb);
    if (tlb.broadcastFlush) tlb.syncIpi();
    tlb.freeTableBatch();
  }
}

export const linux6: PolicyFactory = (o: PolicyOptions = {}) => new Linux6(o.nested ?? 'full');

