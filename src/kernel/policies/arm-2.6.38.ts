import type { Provenance } from '../../machine/provenance.js';
import type { GatherOps } from './gather-ops.js';
import type { Vma } from '../mm.js';
import { FAST_MODE_OPTION, forceFlush, leafWhich } from './common.js';
import type { OptionsOf, PolicyFactory, PolicyOptionSpec, TlbPolicy } from './types.js';

/**
 * arm-2.6.38 models Linux 2.6.38's arch/arm/include/asm/tlb.h with commit
 * 06824ba824b3 ("ARM: tlb: delay page freeing for SMP and ARMv7 CPUs", Feb
 * 2011), the state the 2011 mmu_gather rework starts from. Read in
 * Savaged-Zen/Savaged-Zen @4445e96a2c1d (a 2.6.38.3 tree that also carries
 * the preemptible-mmu_gather conversion, so tlb_gather_mmu takes the gather
 * as an argument; the flush and free logic is 06824ba824b3's). Deliberate
 * deviations (in full in `provenance` below): PMD tables batched with one
 * page of range (ARM frees none); batch size from the gather options; no
 * flush_cache_range or check_pgt_cache.
 *
 *   tlb_fast_mode / FREE_PTE_NR  0 / 500 on SMP or ARMv7, else 1 / 0  l. 36-48
 *   tlb_start_vma         if !fullmm: tlb->vma = vma; reset the range  l. 139-148
 *   tlb_remove_tlb_entry  tlb_add_flush(addr): one page (if !fullmm)   l. 128-132
 *   tlb_remove_page       batched; at FREE_PTE_NR pages, tlb_flush_mmu l. 157-166
 *   pte_free_tlb          tlb_add_flush(addr): ONE page at the table's
 *                         address; then tlb_remove_page(table)        l. 168-176
 *   pmd_free_tlb          pmd_free(), a no-op on ARM's folded pmd     l. 177
 *   tlb_flush             if fullmm or no vma was seen (shift_arg_pages):
 *                         flush_tlb_mm; else if a range was tracked:
 *                         flush_tlb_range(tlb->vma, range) and reset l. 77-86
 *   tlb_end_vma           if !fullmm: tlb_flush                       l. 150-155
 *   tlb_flush_mmu         tlb_flush, then free the batch (unless fast) l. 98-105
 *   tlb_finish_mmu        tlb_flush_mmu                               l. 116-123
 *   get_user_pages_fast   no arch/arm/mm/gup.c in this era: mm/util.c's
 *                         weak version (mmap_sem + get_user_pages).
 *
 * Why the order is right: every page and table is freed from the batch after
 * the tlb_flush that covers it, in tlb_flush_mmu. The data pages of a vma are
 * covered by that vma's range; shift_arg_pages (no vma) gets a whole-mm flush.
 * What the seed criticises: after free_pgtables in unmap_region the range is
 * one page per freed table, flushed with the last vma's flags: enough where a
 * leaf invalidate drops the walk-cache entries covering the address (the table
 * address is the first page of its span), too small in general ("the
 * pte_free_tlb() range is much larger than 1 page"). Later ARM code flushes
 * the two 1 MB sections a classic-MMU PTE page covers (addr + SZ_1M -
 * PAGE_SIZE and addr + SZ_1M) and, with LPAE, batches pmd tables too.
 *
 * fastMode (UP, pre-ARMv7: tlb_fast_mode): pages are freed at once, as before.
 */
class Arm2638 implements TlbPolicy {
  readonly name = 'arm-2.6.38';
  /** get_user_pages_fast: ARM had no lockless get_user_pages_fast before 3.19: mm/util.c's weak get_user_pages_fast takes mmap_sem and calls get_user_pages. */
  readonly gupFast = null;
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;
  constructor(private readonly fast: boolean) {}

  gather(tlb: GatherOps): void {
    tlb.vma = null;
    tlb.resetRange();
  }
  tlbStartVma(tlb: GatherOps, vma: Vma): void {
    if (tlb.fullmm) return;
    tlb.vma = vma;
    tlb.resetRange();
  }
  tlbRemoveTlbEntry(tlb: GatherOps, vpn: number): void {
    this.addFlush(tlb, vpn);
  }
  tlbRemovePage(tlb: GatherOps, frame: number): void {
    this.removePage(tlb, frame, 'data');
  }
  freeTable(tlb: GatherOps, level: 1 | 2, table: number, vpn: number): void {
    this.addFlush(tlb, vpn);
    this.removePage(tlb, table, level === 1 ? 'pte-table' : 'pmd-table');
  }
  tlbEndVma(tlb: GatherOps): void {
    if (!tlb.fullmm) this.tlbFlush(tlb);
  }
  tlbFlushMmu(tlb: GatherOps): void {
    this.tlbFlush(tlb);
    if (!this.fast) tlb.freePageBatch();
  }
  tlbFinishMmu(tlb: GatherOps): void {
    this.tlbFlushMmu(tlb);
  }

  private addFlush(tlb: GatherOps, vpn: number): void {
    if (!tlb.fullmm) tlb.adjustRange(vpn, vpn + 1);
  }
  private removePage(tlb: GatherOps, frame: number, what: 'data' | 'pte-table' | 'pmd-table'): void {
    if (this.fast) {
      tlb.freeNow(frame, what);
      return;
    }
    if (tlb.queuePage(frame, what)) forceFlush(tlb);
  }
  private tlbFlush(tlb: GatherOps): void {
    if (tlb.fullmm || !tlb.vma) tlb.flushMm();
    else if (tlb.hasRange) {
      tlb.flushRange(tlb.start, tlb.end, leafWhich(tlb.vma.exec));
      tlb.resetRange();
    }
  }
}

/** The options this policy takes. */
export const options = [FAST_MODE_OPTION] as const satisfies readonly PolicyOptionSpec[];

export const arm2638: PolicyFactory<OptionsOf<typeof options>> = (o = {}) => new Arm2638(o.fastMode ?? false);

export const provenance: Provenance = {
  version: '2.6.38',
  tree: 'Savaged-Zen/Savaged-Zen @4445e96a2c1d (2.6.38.3 with the preemptible-mmu_gather conversion applied)',
  files: [
    'arch/arm/include/asm/tlb.h:36-177 (tlb_fast_mode, FREE_PTE_NR, tlb_flush, tlb_add_flush, tlb_flush_mmu, tlb_gather_mmu, tlb_finish_mmu, tlb_start_vma, tlb_end_vma, tlb_remove_page, __pte_free_tlb, pmd_free_tlb)',
    'mm/util.c get_user_pages_fast (weak: mmap_sem + get_user_pages; arch/arm/mm has no gup.c)',
  ],
  commit: '06824ba824b3 ("ARM: tlb: delay page freeing for SMP and ARMv7 CPUs")',
  deviations: [
    'pmd_free_tlb is pmd_free (a no-op on the folded pmd); the machine has a real PMD table, so it is batched like a PTE table with one page of range rather than freed at once, which ARM never did to a live table.',
    'The batch capacity is the gather option batchCapacity (default 500, FREE_PTE_NR), so small batches can force intermediate flushes.',
    'flush_cache_range in tlb_start_vma and check_pgt_cache in tlb_finish_mmu are not modelled.',
  ],
};

/** The hardware flavours this kernel ran on: ARM SMP of the time: ARM11 MPCore (ARMv6K) and Cortex-A9 MPCore (ARMv7 MP, e.g. OMAP4, Tegra 2). */
export const hardware: readonly string[] = ['arm11mpcore', 'armv7-mp'];
