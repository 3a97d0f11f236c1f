import { Which } from '../../machine/constants.js';
import type { Provenance } from '../../machine/provenance.js';
import type { GatherOps } from './gather-ops.js';
import type { Vma } from '../mm.js';
import { forceFlush } from './common.js';
import type { OptionsOf, PolicyFactory, PolicyOptionSpec, TlbPolicy } from './types.js';

/**
 * generic-range models the proposal at the end of the 2011 mmu_gather
 * discussion, as posted to linux-mm (RFC of 2011-03-07, reposted 2012, never
 * merged): include/asm-generic/tlb.h with CONFIG_HAVE_MMU_GATHER_RANGE —
 * "proper range tracking for free_*" and the flush moved from tlb_end_vma
 * into tlb_flush_mmu — selected by ARM, sh, sparc32, avr32 in the same
 * posting. There is no kernel tree or commit to cite; the postings are the
 * source. Deliberate deviations (in full in `provenance` below): the I-TLB
 * flag survives intermediate flushes (the patch lost it); itlb=always stands
 * for the unconditional-I-TLB alternative discussed on the list.
 *
 *   tlb_start_vma         (if !fullmm) a change of VM_HUGETLB forces
 *                         tlb_flush_mmu; vm_flags |= VM_EXEC | VM_HUGETLB
 *   tlb_remove_tlb_entry  need_flush = 1; tlb_track_range(addr, addr + 1 page)
 *   tlb_remove_page       batched; a full batch calls tlb_flush_mmu
 *   p??_free_tlb(addr, end)
 *                         need_flush = 1; tlb_track_range(addr, end): the
 *                         WHOLE span the table maps; table joins the batch
 *   tlb_end_vma           nothing
 *   tlb_flush_mmu         if need_flush: one flush_tlb_range(fake vma with the
 *                         gathered vm_flags, start, end) (fullmm: flush_tlb_mm);
 *                         re-init the range; then free the batch
 *   tlb_finish_mmu        tlb_flush_mmu
 *   get_user_pages_fast   unchanged by the proposal: per architecture (x86 and
 *                         sh: interrupts off + get_page; RCU table freeing,
 *                         HAVE_RCU_TABLE_FREE, only where an arch selects it,
 *                         which this policy does not).
 *
 * Why the order is right: one flush covers every page and every table span
 * queued since the last flush, and precedes their free. Because the span of a
 * freed table is in the range, a leaf range invalidate reaches the walk-cache
 * entries of that table on hardware where leaf invalidates drop them; on
 * leaf-only hardware (leafDropsWalkCache false) it does not, which is why
 * later kernels added freed_tables (linux-6).
 *
 * The seed's open question is the I-TLB: flush_tlb_range now gets an mm, not
 * a vma. Option itlb: 'vma-exec' (default) carries the exec flag of the
 * gathered vmas in the gather; 'always' flushes I-TLBs on every flush, as
 * Peter was "tempted" to do.
 *
 */
class GenericRange implements TlbPolicy {
  readonly name = 'generic-range';
  /** get_user_pages_fast: as generic-2011-series: the proposal changed no gup_fast; x86's arch/x86/mm/gup.c disables interrupts and get_page, no recheck. */
  readonly gupFast = 'irq-off';
  /** mm/mremap.c move_ptes of 2.6.x: ptep_clear_flush per moved PTE. */
  readonly moveFlush = 'per-pte' as const;
  constructor(private readonly itlb: 'vma-exec' | 'always') {}

  gather(tlb: GatherOps): void {
    tlb.needFlush = false;
    tlb.resetRange();
    tlb.vmaExec = false;
    tlb.vmaHuge = false;
  }
  tlbStartVma(tlb: GatherOps, vma: Vma): void {
    if (tlb.fullmm) return;
    if (tlb.vmaHuge !== vma.huge) forceFlush(tlb);
    tlb.vmaExec ||= vma.exec;
    tlb.vmaHuge = vma.huge;
  }
  tlbRemoveTlbEntry(tlb: GatherOps, vpn: number): void {
    tlb.needFlush = true;
    if (!tlb.fullmm) tlb.adjustRange(vpn, vpn + 1);
  }
  tlbRemovePage(tlb: GatherOps, frame: number): void {
    if (tlb.queuePage(frame)) forceFlush(tlb);
  }
  freeTable(tlb: GatherOps, level: 1 | 2, table: number, vpn: number, spanEnd: number): void {
    tlb.needFlush = true;
    if (!tlb.fullmm) tlb.adjustRange(vpn, spanEnd);
    if (tlb.queueTableAsPage(level, table)) forceFlush(tlb);
  }
  tlbFlushMmu(tlb: GatherOps): void {
    if (tlb.needFlush) {
      tlb.needFlush = false;
      if (tlb.fullmm) tlb.flushMm();
      else {
        const exec = this.itlb === 'always' || tlb.vmaExec;
        tlb.flushRange(tlb.start, tlb.end, Which.DTLB | (exec ? Which.ITLB : 0));
        tlb.resetRange();
      }
    }
    tlb.freePageBatch();
  }
}

/** The options this policy takes. */
export const options = [{ key: 'itlb', values: ['vma-exec', 'always'], summary: 'flush the I-TLBs only when an exec vma was gathered, or always' }] as const satisfies readonly PolicyOptionSpec[];

export const genericRange: PolicyFactory<OptionsOf<typeof options>> = (o = {}) => new GenericRange(o.itlb ?? 'vma-exec');

export const provenance: Provenance = {
  version: 'RFC of 2011-03-07 (reposted 2012; never merged)',
  tree: 'linux-mm postings of the series (no kernel tree carries it)',
  files: [
    'include/asm-generic/tlb.h as patched: CONFIG_HAVE_MMU_GATHER_RANGE, tlb_track_range, tlb_range_init, tlb_flush with a fake vma carrying the gathered vm_flags',
    'arch/Kconfig: config HAVE_MMU_GATHER_RANGE; arch/{arm,sh,avr32,sparc}/Kconfig select it',
  ],
  commit: 'not merged: "mm: Provide generic range tracking and flushing" in the 2011 mmu_gather series (Peter Zijlstra)',
  deviations: [
    "The patch's tlb_range_init also cleared vm_flags at each flush, so after a batch-full flush in the middle of an exec vma the rest of that vma was flushed without the I-TLB (tlb_start_vma is not called again). Later kernels keep the vma flags across intermediate flushes; so does this model, which is not meant to reproduce that unrelated bug.",
    "Option itlb=always stands for the 'flush I-TLBs unconditionally' alternative discussed on the list; the posted patch carried VM_EXEC in the gather (itlb=vma-exec, the default).",
  ],
};

/** The hardware flavours this kernel ran on: none: the range-tracking proposal was never merged. Every pairing is hypothetical. */
export const hardware: readonly string[] = [];
