import { Which } from '../../machine/constants.js';
import type { MmuGather } from '../mmu_gather.js';
import { forceFlush } from './common.js';
import type { PolicyFactory, PolicyOptions, TlbPolicy } from './types.js';

/**
 * ia64-2.6.38: arch/ia64/include/asm/tlb.h as of 2.6.38.
 *
 *   tlb_gather_mmu        fast mode if one CPU is online; start_addr = ~0
 *   tlb_start/end_vma     nothing
 *   tlb_remove_tlb_entry  need_flush = 1; start_addr (first call) .. end_addr
 *                         (last page + 1): assumes ascending addresses
 *   tlb_remove_page       need_flush = 1; batched (FREE_PTE_NR 2048); a full
 *                         batch flushes [start_addr, end_addr) and frees it
 *   pte/pmd_free_tlb      need_flush = 1; __pte_free_tlb = pte_free(): the
 *                         table goes back to the quicklist AT ONCE
 *   ia64_tlb_flush_mmu(start, end)
 *                         if need_flush: fullmm → flush_tlb_mm, else
 *                         flush_tlb_range(start, end) (ptc.ga purges I and D);
 *                         then free the batch
 *   tlb_finish_mmu(tlb, start, end)
 *                         ia64_tlb_flush_mmu with the CALLER's range
 *
 * Not modelled: the flush_tlb_all for ranges over 1 TB or across regions, and
 * the extra flush of the virtually-mapped linear page table (VHPT) range.
 *
 * Why data pages are right and tables are not: a data page waits in the batch
 * until a flush of a range that contains it. A page-table page is freed when
 * it is unhooked, and the flush that follows (if any: finish flushes only the
 * caller's range, and only because need_flush was set) comes after the free.
 * domain.md models this as "table pages freed without a covering flush"; in
 * shift_arg_pages the tables of the vacated range are reusable before the
 * flush, while hardware walkers (and speculative VHPT walks, which can
 * reinsert entries) may still use walk-cache pointers to them (race 3).
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
