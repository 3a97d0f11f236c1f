import type { MmuGather } from '../mmu_gather.js';
import type { Vma } from '../mm.js';
import { leafWhich } from './common.js';
import type { PolicyFactory, TlbPolicy } from './types.js';

/**
 * arm-2.6.37: arch/arm/include/asm/tlb.h before Russell King's "ARM: tlb:
 * delay page freeing for SMP and ARMv7 CPUs" (Feb 2011, merged for 2.6.38).
 *
 *   tlb_remove_tlb_entry  tracks range_start/range_end (one page each; since
 *                         2.6.30's "Flush only the needed range")
 *   tlb_remove_page       free_page_and_swap_cache(page): freed AT ONCE
 *   pte_free_tlb          pte_free(): the table freed AT ONCE
 *   pmd_free_tlb          pmd_free() (a no-op on ARM's folded pmd; the
 *                         simulated machine has a real PMD table, freed at once)
 *   tlb_end_vma           if !fullmm and a range was tracked:
 *                         flush_tlb_range(vma, range); reset the range
 *   tlb_finish_mmu        flush_tlb_mm only if fullmm
 *   tlb_flush_mmu         (did not exist: there was no batch)
 *
 * Why it is wrong on SMP: the order is unhook, FREE, invalidate. Between
 * tlb_remove_page and tlb_end_vma the frame is back in the allocator while
 * other CPUs of the mm (and, on ARMv7, speculative walks on this one) still
 * hold translations to it (domain.md race 1). Freed page tables are never
 * covered by any flush unless fullmm: shift_arg_pages, which calls neither
 * start_vma nor end_vma, frees tables with no flush at all (race 3). Correct
 * only on a uniprocessor without speculative TLB fills.
 */
class Arm2637 implements TlbPolicy {
  readonly name = 'arm-2.6.37';
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;

  gather(tlb: MmuGather): void {
    tlb.resetRange();
  }
  tlbStartVma(tlb: MmuGather, vma: Vma): void {
    if (tlb.fullmm) return;
    tlb.vma = vma;
    tlb.resetRange();
  }
  tlbRemoveTlbEntry(tlb: MmuGather, vpn: number): void {
    if (!tlb.fullmm) tlb.adjustRange(vpn, vpn + 1);
  }
  tlbRemovePage(tlb: MmuGather, frame: number): void {
    tlb.freeNow(frame, 'data');
  }
  freeTable(tlb: MmuGather, level: 1 | 2, table: number): void {
    tlb.freeTableNow(level, table);
  }
  tlbEndVma(tlb: MmuGather, vma: Vma): void {
    if (tlb.fullmm || !tlb.hasRange) return;
    tlb.flushRange(tlb.start, tlb.end, leafWhich(vma.exec));
    tlb.resetRange();
  }
  tlbFlushMmu(): void {
    // Nothing is ever batched, so there is nothing to flush for.
  }
  tlbFinishMmu(tlb: MmuGather): void {
    if (tlb.fullmm) tlb.flushMm();
  }
}

export const arm2637: PolicyFactory = () => new Arm2637();
