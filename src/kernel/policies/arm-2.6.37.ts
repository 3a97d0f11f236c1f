import type { Provenance } from '../../machine/provenance.js';
import type { GatherOps } from './gather-ops.js';
import type { Vma } from '../mm.js';
import { leafWhich } from './common.js';
import type { PolicyFactory, TlbPolicy } from './types.js';

/**
 * arm-2.6.37 models Linux 2.6.37's arch/arm/include/asm/tlb.h, the file as
 * it was before commit 06824ba824b3 ("ARM: tlb: delay page freeing for SMP
 * and ARMv7 CPUs", merged for 2.6.38). Read in SenberHu/Linux-Kernel-2.16
 * @7341fa283c72 (a 2.6.3x tree whose arch/arm predates that commit), lines
 * 36-106. Deliberate deviations (in full in `provenance` below): a real PMD
 * table, freed at once (ARM's folded pmd frees nothing); tlb_end_vma also
 * resets the range; no flush_cache_range.
 *
 *   tlb_remove_tlb_entry  tracks range_start/range_end (one page each; since
 *                         2.6.30's "Flush only the needed range")   l. 71-80
 *   tlb_remove_page       free_page_and_swap_cache(page): freed AT ONCE  l. 104
 *   pte_free_tlb          pte_free(): the table freed AT ONCE            l. 105
 *   pmd_free_tlb          pmd_free() (a no-op on ARM's folded pmd; the
 *                         simulated machine has a real PMD table, freed at once)
 *   tlb_start_vma         if !fullmm: flush_cache_range; reset the range  l. 87-95
 *   tlb_end_vma           if !fullmm and a range was tracked:
 *                         flush_tlb_range(vma, range)                    l. 97-102
 *   tlb_finish_mmu        flush_tlb_mm only if fullmm                    l. 56-66
 *   tlb_flush_mmu         (did not exist: there was no batch)
 *   get_user_pages_fast   no arch/arm/mm/gup.c: mm/util.c's weak version
 *                         takes mmap_sem and calls get_user_pages, so there
 *                         is no lockless walk to race with a table free.
 *
 * Why it is wrong on SMP: the order is unhook, FREE, invalidate. Between
 * tlb_remove_page and tlb_end_vma the frame is back in the allocator while
 * other CPUs of the mm (and, on ARMv7, speculative walks on this one) still
 * hold translations to it (the delayed-free race). Freed page tables are
 * never covered by any flush unless fullmm: shift_arg_pages, which calls
 * neither start_vma nor end_vma, frees tables with no flush at all. Correct
 * only on a uniprocessor without speculative TLB fills.
 */
class Arm2637 implements TlbPolicy {
  readonly name = 'arm-2.6.37';
  /** get_user_pages_fast: ARM had no lockless get_user_pages_fast before 3.19: mm/util.c's weak get_user_pages_fast takes mmap_sem and calls get_user_pages. */
  readonly gupFast = null;
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;

  tlbStartVma(tlb: GatherOps, vma: Vma): void {
    if (tlb.fullmm) return;
    tlb.vma = vma;
    tlb.resetRange();
  }
  tlbRemoveTlbEntry(tlb: GatherOps, vpn: number): void {
    if (!tlb.fullmm) tlb.adjustRange(vpn, vpn + 1);
  }
  tlbRemovePage(tlb: GatherOps, frame: number): void {
    tlb.freeNow(frame, 'data');
  }
  freeTable(tlb: GatherOps, level: 1 | 2, table: number): void {
    tlb.freeTableNow(level, table);
  }
  tlbEndVma(tlb: GatherOps, vma: Vma): void {
    if (tlb.fullmm || !tlb.hasRange) return;
    tlb.flushRange(tlb.start, tlb.end, leafWhich(vma.exec));
    tlb.resetRange();
  }
  tlbFlushMmu(): void {
    // Nothing is ever batched, so there is nothing to flush for.
  }
  tlbFinishMmu(tlb: GatherOps): void {
    if (tlb.fullmm) tlb.flushMm();
  }
}

export const arm2637: PolicyFactory = () => new Arm2637();

export const provenance: Provenance = {
  version: '2.6.37',
  tree: 'SenberHu/Linux-Kernel-2.16 @7341fa283c72 (an annotated 2.6.3x tree; its arch/arm predates 06824ba824b3)',
  files: [
    'arch/arm/include/asm/tlb.h:36-106 (struct mmu_gather, tlb_gather_mmu, tlb_finish_mmu, tlb_remove_tlb_entry, tlb_start_vma, tlb_end_vma, tlb_remove_page, pte_free_tlb, pmd_free_tlb)',
    'mm/util.c get_user_pages_fast (weak: mmap_sem + get_user_pages; arch/arm/mm has no gup.c)',
  ],
  commit: 'parent of 06824ba824b3 ("ARM: tlb: delay page freeing for SMP and ARMv7 CPUs")',
  deviations: [
    "pmd_free_tlb is pmd_free, a no-op on ARM's folded pmd; the machine has a real PMD table, which is freed at once like a PTE table.",
    'tlb_end_vma also resets the range (the source resets it only in tlb_start_vma, which always precedes it).',
    'flush_cache_range in tlb_start_vma is not modelled: the machine has no virtually indexed caches.',
  ],
};

/** The hardware flavours this kernel ran on: ARM SMP of the time: ARM11 MPCore (ARMv6K) and Cortex-A9 MPCore (ARMv7 MP, e.g. OMAP4, Tegra 2). */
export const hardware: readonly string[] = ['arm11mpcore', 'armv7-mp'];
