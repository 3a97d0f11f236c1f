import { Which } from '../../machine/constants.js';
import type { Provenance } from '../../machine/provenance.js';
import type { MmuGather } from '../mmu_gather.js';
import type { PolicyFactory, TlbPolicy } from './types.js';

/**
 * sh-2.6.38 models Linux 2.6.38's arch/sh/include/asm/tlb.h (read in
 * Savaged-Zen/Savaged-Zen @630019a9ef96, a 2.6.38.3 tree with the
 * preemptible-mmu_gather conversion; the flush and free logic is 2.6.38's)
 * and arch/sh/mm/gup.c (read in redblue-pkt/linux-sh4-3.4.100 @a46936e8c143;
 * no 2.6.38 copy was at hand). Deliberate deviations (in full in
 * `provenance` below): tables go to the frame allocator, not the per-CPU
 * QUICK_PT quicklist; a real PMD table is freed; no flush_cache_range.
 *
 *   tlb_gather_mmu        init_tlb_gather: empty range (fullmm: all) l. 26-44
 *   tlb_start_vma         flush_cache_range only                    l. 70-75
 *   tlb_remove_tlb_entry  widens start/end by the page              l. 56-63
 *   tlb_remove_page       free_page_and_swap_cache: freed AT ONCE   l. 86
 *   pte/pmd_free_tlb      pte_free / pmd_free: freed AT ONCE, to the
 *                         QUICK_PT quicklist (asm/pgalloc.h)        l. 87-88
 *   tlb_end_vma           if !fullmm and end: flush_tlb_range(vma, start,
 *                         end), re-init the range                   l. 77-84
 *   tlb_finish_mmu        flush_tlb_mm only if fullmm; check_pgt_cache l. 46-54
 *   get_user_pages_fast   interrupts off, gup_pte_range: get_page() on the
 *                         page the PTE names, no recheck of pmd or PTE;
 *                         with CONFIG_CACHE_WRITEBACK it always takes the
 *                         slow path (mmap_sem + get_user_pages).
 *
 * SH's flush_tlb_range drops matching entries from both the ITLB and the
 * UTLB whatever the vma flags, so range flushes here target D and I TLBs.
 *
 * Why it is wrong on SMP: frames go back to the allocator before the
 * invalidate (the delayed-free race); and shift_arg_pages, with no
 * start_vma/end_vma and no fullmm, frees the vacated stack's page tables with
 * no flush at all, which is the hole Peter Zijlstra confirms for sh in the
 * 2011 mmu_gather discussion. gup_fast's interrupts-off protects nothing
 * here: the frees never wait for an IPI.
 */
class Sh2638 implements TlbPolicy {
  readonly name = 'sh-2.6.38';
  /** get_user_pages_fast: arch/sh/mm/gup.c: local_irq_disable, then get_page on each present PTE, no recheck (cloned from x86; relies on flushes by IPI). */
  readonly gupFast = 'irq-off';

  gather(tlb: MmuGather): void {
    this.init(tlb);
  }
  tlbStartVma(): void {}
  tlbRemoveTlbEntry(tlb: MmuGather, vpn: number): void {
    tlb.adjustRange(vpn, vpn + 1);
  }
  tlbRemovePage(tlb: MmuGather, frame: number): void {
    tlb.freeNow(frame, 'data');
  }
  freeTable(tlb: MmuGather, level: 1 | 2, table: number): void {
    tlb.freeTableNow(level, table);
  }
  tlbEndVma(tlb: MmuGather): void {
    if (tlb.fullmm || !tlb.hasRange) return;
    tlb.flushRange(tlb.start, tlb.end, Which.DTLB | Which.ITLB);
    this.init(tlb);
  }
  tlbFlushMmu(): void {
    // sh had no batching: nothing to flush for.
  }
  tlbFinishMmu(tlb: MmuGather): void {
    if (tlb.fullmm) tlb.flushMm();
  }

  private init(tlb: MmuGather): void {
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
    'Page-table pages go straight back to the frame allocator; the kernel puts them on the per-CPU QUICK_PT quicklist, where they are reused only as page tables until check_pgt_cache trims the list.',
    'pmd_free_tlb frees a real PMD table at once; sh with 2-level tables has a folded pmd and nothing to free.',
    'flush_cache_range in tlb_start_vma is not modelled.',
  ],
};
