import { Which } from '../../machine/constants.js';
import type { Provenance } from '../../machine/provenance.js';
import type { GatherOps } from './gather-ops.js';
import { SH_QUICKLIST } from '../quicklist.js';
import type { PolicyFactory, TlbPolicy } from './types.js';

/**
 * sh-2.6.38 models Linux 2.6.38's arch/sh/include/asm/tlb.h (read in
 * Savaged-Zen/Savaged-Zen @630019a9ef96, a 2.6.38.3 tree with the
 * preemptible-mmu_gather conversion; the flush and free logic is 2.6.38's)
 * and arch/sh/mm/gup.c (read in redblue-pkt/linux-sh4-3.4.100 @a46936e8c143;
 * no 2.6.38 copy was at hand). Deliberate deviations (in full in
 * `provenance` below): a real PMD table is freed; no flush_cache_range.
 *
 *   tlb_gather_mmu        init_tlb_gather: empty range (fullmm: everything)
 *   tlb_start_vma         flush_cache_range only
 *   tlb_remove_tlb_entry  widens start/end by the page
 *   tlb_remove_page       free_page_and_swap_cache: freed AT ONCE
 *   pte_free_tlb          pte_free: quicklist_free_page onto THIS CPU's
 *                         page-table quicklist (pgalloc.h QUICK_PT), at once
 *   pmd_free_tlb          pmd_free: freed AT ONCE (kmem_cache_free with
 *                         PAGETABLE_LEVELS > 2; a no-op on 2-level sh4)
 *   tlb_end_vma           if !fullmm and end: flush_tlb_range(vma, start, end),
 *                         re-init the range
 *   tlb_finish_mmu        flush_tlb_mm only if fullmm; then check_pgt_cache
 *                         (quicklist_trim(QUICK_PT, NULL, 25, 16))
 *   get_user_pages_fast   interrupts off, gup_pte_range: get_page() on the
 *                         page the PTE names, no recheck of pmd or PTE;
 *                         with CONFIG_CACHE_WRITEBACK it always takes the
 *                         slow path (mmap_sem + get_user_pages).
 *
 * SH's flush_tlb_range drops matching entries from both the ITLB and the
 * UTLB whatever the vma flags, so range flushes here target D and I TLBs.
 *
 * Why it is wrong on SMP: frames go back to the allocator before the
 * invalidate (race 1); and shift_arg_pages, with no start_vma/end_vma and no
 * fullmm, frees the vacated stack's page tables with no flush at all, which is
 * the hole Peter Zijlstra confirms for sh in the seed (race 3). On sh4 no
 * hardware caches a table pointer (the TLB is refilled in software), but with
 * no flush nothing waits for a miss handler in flight on another CPU either:
 * it reads the table after this CPU's quicklist has handed it out again.
 */
class Sh2638 implements TlbPolicy {
  readonly name = 'sh-2.6.38';
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;
  readonly quicklist = SH_QUICKLIST;
  /** get_user_pages_fast: arch/sh/mm/gup.c: local_irq_disable, then get_page on each present PTE, no recheck (cloned from x86; relies on flushes by IPI). */
  readonly gupFast = 'irq-off';

  gather(tlb: GatherOps): void {
    this.init(tlb);
  }
  tlbRemoveTlbEntry(tlb: GatherOps, vpn: number): void {
    tlb.adjustRange(vpn, vpn + 1);
  }
  tlbRemovePage(tlb: GatherOps, frame: number): void {
    tlb.freeNow(frame, 'data');
  }
  freeTable(tlb: GatherOps, level: 1 | 2, table: number): void {
    tlb.quicklistFree(level, table);
  }
  tlbEndVma(tlb: GatherOps): void {
    if (tlb.fullmm || !tlb.hasRange) return;
    tlb.flushRange(tlb.start, tlb.end, Which.DTLB | Which.ITLB);
    this.init(tlb);
  }
  tlbFlushMmu(): void {
    // sh had no batching: nothing to flush for.
  }
  tlbFinishMmu(tlb: GatherOps): void {
    if (tlb.fullmm) tlb.flushMm();
    tlb.checkPgtCache();
  }

  private init(tlb: GatherOps): void {
    tlb.resetRange();
    if (tlb.fullmm) tlb.adjustRange(0, tlb.taskSize);
  }
}

export const sh2638: PolicyFactory = () => new Sh2638();

export const provenance: Provenance = {
  version: '2.6.38',
  tree: 'Savaged-Zen/Savaged-Zen @630019a9ef96 (2.6.38.3) for tlb.h; redblue-pkt/linux-sh4-3.4.100 @a46936e8c143 for gup.c',
  files: [
    'arch/sh/include/asm/tlb.h:20-88 (struct mmu_gather, init_tlb_gather, tlb_gather_mmu, tlb_finish_mmu, tlb_remove_tlb_entry, tlb_start_vma, tlb_end_vma, tlb_remove_page, pte_free_tlb, pmd_free_tlb)',
    'arch/sh/include/asm/pgalloc.h pte_free (quicklist_free_page(QUICK_PT, ...)), check_pgt_cache (quicklist_trim)',
    'arch/sh/mm/gup.c gup_pte_range (get_page, no recheck), get_user_pages_fast (local_irq_disable; #if CONFIG_CACHE_WRITEBACK goto slow_irqon)',
  ],
  deviations: [
    'pmd_free_tlb frees a real PMD table at once; sh with 2-level tables has a folded pmd and nothing to free.',
    'flush_cache_range in tlb_start_vma is not modelled.',
  ],
};

/** The hardware flavours this kernel ran on: SH-4/SH-4A SMP (software-refilled TLB). */
export const hardware: readonly string[] = ['sh4'];
