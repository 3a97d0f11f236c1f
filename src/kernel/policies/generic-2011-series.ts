import type { MmuGather } from '../mmu_gather.js';
import type { Vma } from '../mm.js';
import { forceFlush, leafWhich } from './common.js';
import type { PolicyFactory, TlbPolicy } from './types.js';

/**
 * generic-2011-series (formerly generic-2.6.39, still accepted as an alias):
 * the generic mmu_gather of Peter Zijlstra's 2011 series ("mm: mmu_gather
 * rework", include/asm-generic/tlb.h + mm/memory.c) as the seed describes it
 * for an architecture converted to it with range flushes in tlb_end_vma. That
 * is the series as posted (Feb-Mar 2011), not a released 2.6.39: it was
 * merged for 3.0, where x86's tlb_end_vma does nothing and tlb_flush is
 * flush_tlb_mm.
 *
 *   tlb_remove_tlb_entry  need_flush = 1; track the page
 *   tlb_remove_page       batched; a full batch calls tlb_flush_mmu
 *   p??_free_tlb          need_flush = 1; __pte_free_tlb → tlb_remove_page:
 *                         the table joins the page batch (no range)
 *   tlb_end_vma           flush_tlb_range(vma, tracked range); reset the
 *                         range and CLEAR need_flush ("so things like
 *                         zap_page_range() will not then also call tlb_flush()")
 *   tlb_flush_mmu         if need_flush: clear it, tlb_flush() =
 *                         flush_tlb_mm; then free the batch
 *   tlb_finish_mmu        tlb_flush_mmu
 *
 * Why the order is right: data pages queued in a vma are covered by that
 * vma's range flush in tlb_end_vma, which precedes their free; tables queued
 * by free_pgtables set need_flush again, so tlb_finish_mmu flushes the whole
 * mm before freeing them. Its cost is what the seed complains about: every
 * munmap that frees a page table ends in a whole-mm flush, "a waste of all
 * that careful range tracking by zap_*".
 *
 * DEVIATION: 3.0's tlb_flush_mmu returns before freeing when need_flush is
 * clear. With the end_vma flush clearing need_flush, madvise's batch would
 * then never be freed; here the batch is freed whenever tlb_flush_mmu runs.
 * That is safe: need_flush clear means every entry removed since the last
 * flush has been invalidated.
 */
class Generic2011Series implements TlbPolicy {
  readonly name = 'generic-2011-series';
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;

  gather(tlb: MmuGather): void {
    tlb.needFlush = false;
    tlb.resetRange();
  }
  tlbStartVma(tlb: MmuGather, vma: Vma): void {
    if (!tlb.fullmm) tlb.vma = vma;
  }
  tlbRemoveTlbEntry(tlb: MmuGather, vpn: number): void {
    tlb.needFlush = true;
    if (!tlb.fullmm) tlb.adjustRange(vpn, vpn + 1);
  }
  tlbRemovePage(tlb: MmuGather, frame: number): void {
    if (tlb.queuePage(frame)) forceFlush(tlb);
  }
  freeTable(tlb: MmuGather, level: 1 | 2, table: number): void {
    tlb.needFlush = true;
    if (tlb.queueTableAsPage(level, table)) forceFlush(tlb);
  }
  tlbEndVma(tlb: MmuGather, vma: Vma): void {
    if (tlb.fullmm || !tlb.hasRange) return;
    tlb.flushRange(tlb.start, tlb.end, leafWhich(vma.exec));
    tlb.resetRange();
    tlb.needFlush = false;
  }
  tlbFlushMmu(tlb: MmuGather): void {
    if (tlb.needFlush) {
      tlb.needFlush = false;
      tlb.flushMm();
    }
    tlb.freePageBatch();
  }
  tlbFinishMmu(tlb: MmuGather): void {
    this.tlbFlushMmu(tlb);
  }
}

export const generic2011Series: PolicyFactory = () => new Generic2011Series();
