import { Which } from '../../machine/constants.js';
import type { Provenance } from '../../machine/provenance.js';
import type { GatherOps } from './gather-ops.js';
import { IA64_QUICKLIST } from '../quicklist.js';
import { FAST_MODE_OPTION, forceFlush } from './common.js';
import type { OptionsOf, PolicyFactory, PolicyOptionSpec, TlbPolicy } from './types.js';

/**
 * ia64-2.6.38 models Linux 2.6.38's arch/ia64/include/asm/tlb.h (read in
 * Savaged-Zen/Savaged-Zen @e6161b3974ec, a 2.6.38.3 tree with the
 * preemptible-mmu_gather conversion: its batch is 8 on-stack pointers grown
 * to a page, where mainline 2.6.38 had a per-CPU array; the flush and free
 * logic is 2.6.38's) and asm/pgalloc.h. Deliberate deviations (in full in
 * `provenance` below): no flush_tlb_all for huge or cross-region ranges; the
 * VHPT range is the walk cache; batch size from the gather options.
 *
 *   tlb_gather_mmu        fast mode if one CPU is online; start_addr = ~0
 *                                                                 l. 157-179
 *   tlb_start/end_vma     nothing                                 l. 239-240
 *   tlb_remove_tlb_entry  need_flush = 1; start_addr (first call) .. end_addr
 *                         (last page + 1): assumes ascending addresses
 *   tlb_remove_page       need_flush = 1; batched (FREE_PTE_NR 2048); a full
 *                         batch flushes [start_addr, end_addr) and frees it
 *   pte/pmd_free_tlb      need_flush = 1; __pte_free_tlb = pte_free() and
 *                         pmd_free(): quicklist_free onto THIS CPU's page-table
 *                         quicklist (pgalloc.h), at once, before any flush
 *   ia64_tlb_flush_mmu(start, end)
 *                         if need_flush: fullmm → flush_tlb_mm, else
 *                         flush_tlb_range(start, end) (ptc.ga purges I and D)
 *                         and flush_tlb_range(ia64_thash(start),
 *                         ia64_thash(end)): the VHPT range, i.e. the TLB
 *                         entries of the linear page table that map the
 *                         range's PTE tables (the walk cache, Which.WALK);
 *                         then free the batch
 *   tlb_finish_mmu(tlb, start, end)
 *                         ia64_tlb_flush_mmu with the CALLER's range, then
 *                         check_pgt_cache (quicklist_trim(0, NULL, 25, 16))
 *   get_user_pages_fast   no arch/ia64/mm/gup.c: mm/util.c's weak version
 *                         (mmap_sem + get_user_pages), no lockless walk.
 *
 * Not modelled: the flush_tlb_all for ranges over 1 TB or across regions.
 *
 * Why the order is right although tables are "freed" first: a data page
 * waits in the batch until a flush of a range that contains it. A page-table
 * page goes to the freeing CPU's quicklist when it is unhooked, before the
 * flush, but a quicklist page is not free: nobody else can get it, and this
 * CPU only hands it out to one of its own table allocations, none of which
 * happens inside the gather. A walker still holding a VHPT translation to it
 * reads the cleared entries, harmlessly. tlb_finish_mmu purges the caller's
 * range and its VHPT range (need_flush was set by the table free), and only
 * then may check_pgt_cache give pages back to the allocator. In
 * shift_arg_pages the caller's range [new_end, old_end) is the vacated span,
 * so the purge covers the freed tables' VHPT translations: the hole the seed
 * suspected for ia64 is closed in 2.6.38 (scenarios/shift-arg-pages.ts).
 */
class Ia642638 implements TlbPolicy {
  readonly name = 'ia64-2.6.38';
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;
  /** get_user_pages_fast: ia64 never had a lockless get_user_pages_fast: mm/util.c's weak version takes mmap_sem and calls get_user_pages. */
  readonly gupFast = null;
  readonly quicklist = IA64_QUICKLIST;
  constructor(private readonly fast: boolean) {}

  gather(tlb: GatherOps): void {
    tlb.needFlush = false;
    tlb.resetRange();
  }
  tlbRemoveTlbEntry(tlb: GatherOps, vpn: number): void {
    tlb.needFlush = true;
    if (!tlb.hasRange) tlb.start = vpn;
    tlb.end = vpn + 1;
  }
  tlbRemovePage(tlb: GatherOps, frame: number): void {
    tlb.needFlush = true;
    if (this.fast) {
      tlb.freeNow(frame, 'data');
      return;
    }
    if (tlb.queuePage(frame)) forceFlush(tlb);
  }
  freeTable(tlb: GatherOps, level: 1 | 2, table: number): void {
    tlb.needFlush = true;
    tlb.quicklistFree(level, table);
  }
  /** tlb_remove_page's flush: the range tracked from removed entries. */
  tlbFlushMmu(tlb: GatherOps): void {
    this.flushMmu(tlb, tlb.start, tlb.end);
  }
  tlbFinishMmu(tlb: GatherOps, start: number, end: number): void {
    this.flushMmu(tlb, start, end);
    // Only after the purges: the quicklist may now give tables to anyone.
    tlb.checkPgtCache();
  }

  private flushMmu(tlb: GatherOps, start: number, end: number): void {
    if (!tlb.needFlush) return;
    tlb.needFlush = false;
    if (tlb.fullmm) tlb.flushMm();
    else {
      tlb.flushRange(start, end, Which.DTLB | Which.ITLB);
      // ia64_thash(start)..ia64_thash(end): the linear page table's translations for the range.
      tlb.flushRange(start, end, Which.WALK);
    }
    if (!this.fast) {
      tlb.freePageBatch();
      tlb.resetRange();
    }
  }
}

/** The options this policy takes. */
export const options = [FAST_MODE_OPTION] as const satisfies readonly PolicyOptionSpec[];

export const ia642638: PolicyFactory<OptionsOf<typeof options>> = (o = {}) => new Ia642638(o.fastMode ?? false);

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
    'The second flush_tlb_range, over the VHPT mapping (ia64_thash(start)..ia64_thash(end)), is modelled as a walk-cache invalidate of the range: the machine has no virtually mapped linear page table, and the TLB entries that map it are what its walk cache stands for on the ia64 flavour.',
    'The batch capacity is the gather option batchCapacity (default 500).',
  ],
};

/** The hardware flavours this kernel ran on: Itanium (the VHPT walker and ptc.ga). */
export const hardware: readonly string[] = ['ia64'];
