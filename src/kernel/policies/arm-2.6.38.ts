import type { MmuGather } from '../mmu_gather.js';
import type { Vma } from '../mm.js';
import { forceFlush, leafWhich } from './common.js';
import type { PolicyFactory, PolicyOptions, TlbPolicy } from './types.js';

/**
 * arm-2.6.38: arch/arm/include/asm/tlb.h with "ARM: tlb: delay page freeing
 * for SMP and ARMv7 CPUs" (06824ba824b3, Feb 2011), the state the 2011
 * mmu_gather rework seed starts from.
 *
 *   tlb_start_vma         if !fullmm: tlb->vma = vma; reset the range
 *   tlb_remove_tlb_entry  tlb_add_flush(addr): one page (if !fullmm)
 *   tlb_remove_page       batched; at FREE_PTE_NR (500) pages, tlb_flush_mmu
 *   pte_free_tlb          tlb_add_flush(addr): ONE page at the table's address;
 *                         then tlb_remove_page(table): same batch as pages
 *   pmd_free_tlb          pmd_free() in the source, a no-op on ARM's folded
 *                         pmd. DEVIATION: the simulated machine has a real PMD
 *                         table, so it is treated as pte_free_tlb treats a PTE
 *                         table (one page of range, batched) rather than freed
 *                         at once, which ARM never did to a live table.
 *   tlb_flush             if fullmm or no vma was seen (shift_arg_pages):
 *                         flush_tlb_mm; else if a range was tracked:
 *                         flush_tlb_range(tlb->vma, range) and reset it
 *   tlb_end_vma           if !fullmm: tlb_flush
 *   tlb_flush_mmu         tlb_flush, then free the batch (unless fast mode)
 *   tlb_finish_mmu        tlb_flush_mmu
 *
 * Why the order is right: every page and table is freed from the batch after
 * the tlb_flush that covers it, in tlb_flush_mmu. The data pages of a vma are
 * covered by that vma's range; shift_arg_pages (no vma) gets a whole-mm flush.
 * What the seed criticises: after free_pgtables in unmap_region the range is
 * one page per freed table, flushed with the last vma's flags: enough where a
 * leaf invalidate drops the walk-cache entries covering the address (the table
 * address is the first page of its span), too small in general ("the
 * pte_free_tlb() range is much larger than 1 page"), and pmd tables get no
 * range at all in the source.
 *
 * fastMode (UP, pre-ARMv7: tlb_fast_mode): pages are freed at once, as before.
 */
class Arm2638 implements TlbPolicy {
  readonly name = 'arm-2.6.38';
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;
  constructor(private readonly fast: boolean) {}

  gather(tlb: MmuGather): void {
    tlb.vma = null;
    tlb.resetRange();
  }
  tlbStartVma(tlb: MmuGather, vma: Vma): void {
    if (tlb.fullmm) return;
    tlb.vma = vma;
    tlb.resetRange();
  }
  tlbRemoveTlbEntry(tlb: MmuGather, vpn: number): void {
    this.addFlush(tlb, vpn);
  }
  tlbRemovePage(tlb: MmuGather, frame: number): void {
    this.removePage(tlb, frame, 'data');
  }
  freeTable(tlb: MmuGather, level: 1 | 2, table: number, vpn: number): void {
    this.addFlush(tlb, vpn);
    this.removePage(tlb, table, level === 1 ? 'pte-table' : 'pmd-table');
  }
  tlbEndVma(tlb: MmuGather): void {
    if (!tlb.fullmm) this.tlbFlush(tlb);
  }
  tlbFlushMmu(tlb: MmuGather): void {
    this.tlbFlush(tlb);
    if (!this.fast) tlb.freePageBatch();
  }
  tlbFinishMmu(tlb: MmuGather): void {
    this.tlbFlushMmu(tlb);
  }

  private addFlush(tlb: MmuGather, vpn: number): void {
    if (!tlb.fullmm) tlb.adjustRange(vpn, vpn + 1);
  }
  private removePage(tlb: MmuGather, frame: number, what: 'data' | 'pte-table' | 'pmd-table'): void {
    if (this.fast) {
      tlb.freeNow(frame, what);
      return;
    }
    if (tlb.queuePage(frame, what)) forceFlush(tlb);
  }
  private tlbFlush(tlb: MmuGather): void {
    if (tlb.fullmm || !tlb.vma) tlb.flushMm();
    else if (tlb.hasRange) {
      tlb.flushRange(tlb.start, tlb.end, leafWhich(tlb.vma.exec));
      tlb.resetRange();
    }
  }
}

export const arm2638: PolicyFactory = (o: PolicyOptions = {}) => new Arm2638(o.fastMode ?? false);
