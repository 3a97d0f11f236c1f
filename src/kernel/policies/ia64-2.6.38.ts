import { Which } from '../../machine/constants.js';
import type { Provenance } from '../../machine/provenance.js';
import type { MmuGather } from '../mmu_gather.js';
import { forceFlush } from './common.js';
import type { PolicyFactory, PolicyOptions, TlbPolicy } from './types.js';

/**
 * ia64-2.6.38 models Linux 2.6.38's arch/ia64/include/asm/tlb.h (read in
 * Savaged-Zen/Savaged-Zen @e6161b3974ec, a 2.6.38.3 tree with the
 * preemptible-mmu_gather conversion: its batch is 8 on-stack pointers grown
 * to a page, where mainline 2.6.38 had a per-CPU array; the flush and free
 * logic is 2.6.38's) and asm/pgalloc.h. Deliberate deviations (in full in
 * `provenance` below): no flush_tlb_all for huge or cross-region ranges; no
 * second flush over the VHPT range; tables go to the frame allocator, not
 * the per-CPU quicklist; batch size from the gather options.
 *
 *   tlb_gather_mmu        fast mode if one CPU is online; start_addr = ~0
 *                                                                 l. 157-179
 *   tlb_start/end_vma     nothing                                 l. 239-240
 *   tlb_remove_tlb_entry  need_flush = 1; start_addr (first call) .. end_addr
 *                         (last page + 1): assumes ascending addresses
 *                                                       l. 229-234, 242-246
 *   tlb_remove_page       need_flush = 1; batched; a full batch flushes
 *                         [start_addr, end_addr) and frees it     l. 207-222
 *   pte/pmd_free_tlb      need_flush = 1; __pte_free_tlb = pte_free(): the
 *                         table goes to the quicklist AT ONCE (pgalloc.h)
 *                                                                 l. 248-258
 *   ia64_tlb_flush_mmu(start, end)
 *                         if need_flush: fullmm → flush_tlb_mm; over 1 TB or
 *                         across regions → flush_tlb_all; else
 *                         flush_tlb_range(start, end) (ptc.ga purges I and D)
 *                         AND flush_tlb_range(ia64_thash(start),
 *                         ia64_thash(end)), the VHPT's own mapping; then
 *                         free the batch                          l. 97-145
 *   tlb_finish_mmu(tlb, start, end)
 *                         ia64_tlb_flush_mmu with the CALLER's range;
 *                         check_pgt_cache                         l. 186-200
 *   get_user_pages_fast   no arch/ia64/mm/gup.c: mm/util.c's weak version
 *                         (mmap_sem + get_user_pages), no lockless walk.
 *
 * Why data pages are right and tables are not: a data page waits in the batch
 * until a flush of a range that contains it. A page-table page is freed when
 * it is unhooked, and the flush that follows (if any: finish flushes only the
 * caller's range, and only because need_flush was set) comes after the free.
 * In shift_arg_pages the tables of the vacated range are reusable before the
 * flush, while the hardware VHPT walker (which inserts translations
 * speculatively, as the comment in tlb_gather_mmu warns) may still use them.
 */
class Ia642638 implements TlbPolicy {
  readonly name = 'ia64-2.6.38';
  /** get_user_pages_fast: ia64 never had a lockless get_user_pages_fast: mm/util.c's weak version takes mmap_sem and calls get_user_pages. */
  readonly gupFast = null;
  constructor(private readonly fast: boolean) {}

  gather(tlb: MmuGather): void {
    tlb.needFlush = false;
    tlb.resetRange();
  }
  tlbStartVma(): void {}
  tlbEndVma(): void {}
  tlbRemoveTlbEntry(tlb: MmuGather, vpn: number): void {
    tlb.needFlush = true;
    if (!tlb.hasRange) tlb.start = vpn;
    tlb.end = vpn + 1;
  }
  tlbRemovePage(tlb: MmuGather, frame: number): void {
    tlb.needFlush = true;
    if (this.fast) {
      tlb.freeNow(frame, 'data');
      return;
    }
    if (tlb.queuePage(frame)) forceFlush(tlb);
  }
  freeTable(tlb: MmuGather, level: 1 | 2, table: number): void {
    tlb.needFlush = true;
    tlb.freeTableNow(level, table);
  }
  /** tlb_remove_page's flush: the range tracked from removed entries. */
  tlbFlushMmu(tlb: MmuGather): void {
    this.flushMmu(tlb, tlb.start, tlb.end);
  }
  tlbFinishMmu(tlb: MmuGather, start: number, end: number): void {
    this.flushMmu(tlb, start, end);
  }

  private flushMmu(tlb: MmuGather, start: number, end: number): void {
    if (!tlb.needFlush) return;
    tlb.needFlush = false;
    if (tlb.fullmm) tlb.flushMm();
    else tlb.flushRange(start, end, Which.DTLB | Which.ITLB);
    if (!this.fast) {
      tlb.freePageBatch();
      tlb.resetRange();
    }
  }
}

export const ia642638: PolicyFactory = (o: PolicyOptions = {}) => new Ia642638(o.fastMode ?? false);

export const provenance: Provenance = {
  version: '2.6.38',
  tree: 'Savaged-Zen/Savaged-Zen @e6161b3974ec (2.6.38.3 with the preemptible-mmu_gather conversion)',
  files: [
    'arch/ia64/include/asm/tlb.h:97-258 (ia64_tlb_flush_mmu, tlb_gather_mmu, tlb_finish_mmu, tlb_remove_page, __tlb_remove_tlb_entry, tlb_start_vma, tlb_end_vma, pte_free_tlb, pmd_free_tlb)',
    'arch/ia64/include/asm/pgalloc.h pte_free (quicklist_free_page), __pte_free_tlb = pte_free, check_pgt_cache (quicklist_trim)',
    'mm/util.c get_user_pages_fast (weak: mmap_sem + get_user_pages; there is no arch/ia64/mm/gup.c)',
  ],
  deviations: [
    'The flush_tlb_all for ranges over 1 TB or across regions is not modelled (the machine has one region and a small address space).',
    'The second flush_tlb_range over the VHPT mapping (ia64_thash(start)..ia64_thash(end)) is not modelled: the machine has no virtually mapped page table.',
    'Page-table pages go straight back to the frame allocator; the kernel puts them on a per-CPU quicklist, reused only as page tables until check_pgt_cache trims it.',
    'The batch capacity is the gather option batchCapacity (default 500).',
  ],
};
