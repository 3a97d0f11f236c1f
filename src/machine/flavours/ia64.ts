import type { HardwareFlavour } from '../flavours.js';
import type { Provenance } from '../provenance.js';
import { SPECULATION } from './speculation.js';

export const ia64Provenance: Provenance = {
  version: 'Itanium 2 SMP under Linux 2.6.38',
  tree: 'Savaged-Zen/Savaged-Zen (2.6.38.3) for tlb.h; TheWhisp/android_kernel_samsung_msm7x27a (3.4-era) for mm/tlb.c',
  files: [
    'arch/ia64/include/asm/tlb.h (ia64_tlb_flush_mmu: flush_tlb_range of the range, then of ia64_thash(start)..ia64_thash(end); tlb_gather_mmu comment on speculative VHPT walks)',
    'arch/ia64/mm/tlb.c (flush_tlb_range → platform_global_tlb_purge → ia64_global_tlb_purge: ptc.ga)',
    'arch/ia64/kernel/smp.c (smp_flush_tlb_mm: IPIs)',
  ],
  deviations: [
    'The walk cache also holds PMD-table pointers (level 2); Linux\'s vhpt_miss handler walks the upper levels in software each time. A purge that names the walk cache drops both.',
    'flush_tlb_range\'s single-CPU shortcut (ptc.l when the mm is current and its cpumask has one CPU) is not modelled: ranges are always broadcast.',
    'ptc.ga\'s serialisation (ptcg_sem, nptcg) is not modelled; broadcasts from different CPUs may overlap.',
  ],
};

/**
 * ia64: Itanium SMP with the generic machine vector (HP zx1 class), as Linux
 * 2.6.38 drives it.
 *
 * The hardware VHPT walker. Linux runs the short-format VHPT as a virtually
 * mapped linear page table: the walker reads the PTE of a missing address at
 * ia64_thash(addr), a virtual address in the page-table area whose own
 * translation (virtual page of the linear table → the PTE table's frame) the
 * TLB holds once the vhpt_miss handler has inserted it. Those TLB entries are
 * the machine's walk cache: each one points at a PTE-table frame and covers
 * the span of addresses that table maps. They are dropped only by a purge of
 * the page-table area itself (tlb_finish_mmu's second flush_tlb_range, over
 * ia64_thash(start)..ia64_thash(end)), or by a whole-context flush; a purge of
 * the user range does not touch them (leafDropsWalkCache false; a flush that
 * names Which.WALK over the user range is how a policy says "purge the VHPT
 * range that maps it"). The walker may insert translations speculatively
 * (tlb.h's comment on tlb_fast_mode: speculation and lfetch.fault "could
 * trigger a TLB miss fault (or a VHPT walk) and re-insert a TLB entry we just
 * removed").
 *
 * Flushes: flush_tlb_range (arch/ia64/mm/tlb.c) purges with ptc.ga, a
 * broadcast purge that reaches every CPU's TLB without interrupting it, via
 * platform_global_tlb_purge = ia64_global_tlb_purge; flush_tlb_mm and
 * flush_tlb_all go by IPI (smp_flush_tlb_mm, on_each_cpu). That split is the
 * machine's 'range-broadcast' flush flavour. The source has no IPI-based
 * range purge (SN2's sn2_global_tlb_purge is a hardware broadcast too), so
 * ptc.ga is not an option here but the flavour's default, and there is no
 * IPI-only ia64 flavour.
 */
export const ia64: HardwareFlavour = {
  name: 'ia64',
  description: 'Itanium SMP (generic machvec): VHPT walker that inserts speculatively, the linear page table\'s TLB entries as walk cache (dropped only by a purge of the VHPT range); ranges purged by ptc.ga broadcast, whole-mm flushes by IPI',
  config: { flush: 'range-broadcast', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: false },
  provenance: ia64Provenance,
};
