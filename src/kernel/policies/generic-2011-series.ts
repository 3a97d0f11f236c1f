import type { Provenance } from '../../machine/provenance.js';
import type { GatherOps } from './gather-ops.js';
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
 * Read in Savaged-Zen/Savaged-Zen @630019a9ef96 (a 2.6.38.3 tree carrying
 * the series). Deliberate deviations (in full in `provenance` below):
 * tlb_end_vma range-flushes and clears need_flush (3.0's x86 does neither and
 * flushes the whole mm once); the batch is freed whenever tlb_flush_mmu runs;
 * no fast_mode.
 *
 *   tlb_remove_tlb_entry  need_flush = 1; track the page
 *   tlb_remove_page       need_flush = 1; batched; a full batch (no page
 *                         for a next batch) calls tlb_flush_mmu
 *   p??_free_tlb          need_flush = 1; __pte_free_tlb → tlb_remove_page:
 *                         the table joins the page batch (no range)
 *   tlb_end_vma           flush_tlb_range(vma, tracked range); reset the
 *                         range and CLEAR need_flush (the seed's description
 *                         of the series in progress; see deviations)
 *   tlb_flush_mmu         if need_flush: clear it, tlb_flush() =
 *                         flush_tlb_mm; then free the batch
 *   tlb_finish_mmu        tlb_flush_mmu; check_pgt_cache
 *   get_user_pages_fast   per architecture: x86 (arch/x86/mm/gup.c) and sh
 *                         walk with interrupts off and get_page(); the
 *                         IPI-flush wait is what keeps tables and pages
 *                         alive. HAVE_RCU_TABLE_FREE (tlb_remove_table) is
 *                         in the series for architectures without IPI
 *                         flushes, but this policy does not select it.
 *
 * Why the order is right: data pages queued in a vma are covered by that
 * vma's range flush in tlb_end_vma, which precedes their free; tables queued
 * by free_pgtables set need_flush again, so tlb_finish_mmu flushes the whole
 * mm before freeing them. Its cost is what the seed complains about: every
 * munmap that frees a page table ends in a whole-mm flush, "a waste of all
 * that careful range tracking by zap_*".
 */
class Generic2011Series implements TlbPolicy {
  readonly name = 'generic-2011-series';
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;
  /** get_user_pages_fast: the series changed no gup_fast: the architectures it served with IPI flushes (x86's arch/x86/mm/gup.c) disable interrupts and get_page, no recheck. */
  readonly gupFast = 'irq-off';

  gather(tlb: GatherOps): void {
    tlb.needFlush = false;
    tlb.resetRange();
  }
  tlbStartVma(tlb: GatherOps, vma: Vma): void {
    if (!tlb.fullmm) tlb.vma = vma;
  }
  tlbRemoveTlbEntry(tlb: GatherOps, vpn: number): void {
    tlb.needFlush = true;
    if (!tlb.fullmm) tlb.adjustRange(vpn, vpn + 1);
  }
  tlbRemovePage(tlb: GatherOps, frame: number): void {
    if (tlb.queuePage(frame)) forceFlush(tlb);
  }
  freeTable(tlb: GatherOps, level: 1 | 2, table: number): void {
    tlb.needFlush = true;
    if (tlb.queueTableAsPage(level, table)) forceFlush(tlb);
  }
  tlbEndVma(tlb: GatherOps, vma: Vma): void {
    if (tlb.fullmm || !tlb.hasRange) return;
    tlb.flushRange(tlb.start, tlb.end, leafWhich(vma.exec));
    tlb.resetRange();
    tlb.needFlush = false;
  }
  tlbFlushMmu(tlb: GatherOps): void {
    if (tlb.needFlush) {
      tlb.needFlush = false;
      tlb.flushMm();
    }
    tlb.freePageBatch();
  }
}

export const generic2011Series: PolicyFactory = () => new Generic2011Series();

export const provenance: Provenance = {
  version: '3.0 (the 2011 generic mmu_gather series; merged for 3.0, not 2.6.39)',
  tree: 'Savaged-Zen/Savaged-Zen @630019a9ef96 (2.6.38.3 carrying the series); x86 behaviour as in 3.0',
  files: [
    'include/asm-generic/tlb.h (struct mmu_gather with need_flush and batches, tlb_gather_mmu, tlb_flush_mmu, tlb_finish_mmu, tlb_remove_page, tlb_remove_tlb_entry, pte_free_tlb, pmd_free_tlb; HAVE_RCU_TABLE_FREE tlb_remove_table)',
    'arch/x86/include/asm/tlb.h (3.0: tlb_start_vma and tlb_end_vma empty, tlb_flush = flush_tlb_mm)',
    'arch/x86/mm/gup.c get_user_pages_fast (local_irq_disable, get_page, no recheck)',
  ],
  commit: 'the series "mm: Preemptible mmu_gather" / "mm: mmu_gather rework" (Peter Zijlstra, Feb-Mar 2011; in 3.0)',
  deviations: [
    'tlb_end_vma range-flushes and clears need_flush, as the February 2011 linux-mm discussion describes the series in progress; in 3.0 tlb_end_vma is per architecture (empty on x86, whose tlb_flush is flush_tlb_mm) and nothing clears need_flush before tlb_flush_mmu.',
    "3.0's tlb_flush_mmu returns before freeing when need_flush is clear; with the end_vma flush clearing need_flush, madvise's batch would then never be freed, so here the batch is freed whenever tlb_flush_mmu runs. That is safe: need_flush clear means every entry removed since the last flush has been invalidated.",
    'fast_mode (one CPU online: free at once) is not modelled.',
  ],
};

/** The hardware flavours this kernel ran on: none: the series as posted in 2011 (range flush in tlb_end_vma that clears need_flush) never shipped; 3.0 merged a different version. Every pairing is hypothetical. */
export const hardware: readonly string[] = [];
