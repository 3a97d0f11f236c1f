import type { HardwareFlavour } from '../flavours.js';
import { SPECULATION } from './speculation.js';
import type { Provenance } from '../provenance.js';

export const x86InvlpgbProvenance: Provenance = {
  version: 'x86-64 with AMD INVLPGB/TLBSYNC (Zen 3 and later), as Linux 6.15 drives it',
  tree: 'torvalds/linux v6.15 (the x86/mm INVLPGB series, merged in x86-core-2025-03-22)',
  files: [
    'AMD APM Vol. 3: INVLPGB broadcasts an invalidation of TLB entries (all translation levels unless a final-only flag is given) to every processor; TLBSYNC waits until those the issuing processor started have completed everywhere',
    'arch/x86/mm/tlb.c broadcast_tlb_flush: invlpgb_flush_user_nr_nosync(kern_pcid(asid), addr, nr, pmd) ... __tlbsync(); flush_tlb_mm_range: a global-ASID mm is flushed by broadcast, with no IPI, freed_tables or not',
    'arch/x86/mm/tlb.c consider_global_asid: mm_active_cpus_exceeds(mm, 3) → use_global_asid (4afeb0ed1753 "x86/mm: Enable broadcast TLB invalidation for multi-threaded processes")',
    'b7aa05cbdc52 "x86/mm: Add INVLPGB support code"; a37259732a7d "x86/mm: Make MMU_GATHER_RCU_TABLE_FREE unconditional" ("allows bare metal to also do TLB flushing while interrupts are disabled ... That makes it safe to use INVLPGB")',
  ],
  deviations: [
    'Every mm is flushed by broadcast; Linux broadcasts only for an mm with a global ASID (seen active on more than 3 CPUs) and IPIs the others, and the transition to a global ASID (finish_asid_transition) is not modelled.',
    'INVLPGB is modelled as the machine\'s broadcast invalidate: the initiator invalidates the remote entries, then waits for every CPU\'s quiescence point, as the DSB/TLBSYNC wait for accesses that used the old translations; no interrupt is taken, so a CPU with interrupts off (gup_fast) does not hold it up.',
    'No PCIDs, global pages or large pages; INVLPG and INVLPGB drop only walk-cache entries whose span covers the address (the hardware drops more).',
  ],
};

/**
 * x86-invlpgb: x86 whose remote invalidations go by AMD's INVLPGB broadcast
 * (Linux 6.15+ for multi-threaded processes) instead of IPIs. What used to
 * protect a lockless walker with interrupts off on x86, the flush IPI it
 * could not take, is gone: page tables must be freed through RCU (or after
 * a synchronising IPI), as on arm64. Speculative walks and paging-structure
 * caches as on `x86`; INVLPGB invalidates all translation levels.
 */
export const x86Invlpgb: HardwareFlavour = {
  name: 'x86-invlpgb',
  description: 'x86 with AMD INVLPGB: hardware-broadcast invalidation (no flush IPIs), speculative walks, paging-structure caches dropped by invalidates inside their span',
  config: { flush: 'broadcast', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: true },
  provenance: x86InvlpgbProvenance,
};
