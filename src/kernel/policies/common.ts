import { Which } from '../../machine/constants.js';
import type { GatherOps } from './gather-ops.js';

/** flush_tlb_range(vma, ...) on an architecture that skips the I-TLB for non-exec vmas (ARM, tile). */
export function leafWhich(exec: boolean): number {
  return Which.DTLB | (exec ? Which.ITLB : 0);
}

/**
 * tlb_remove_page found the batch full: the gather must call tlb_flush_mmu
 * before queueing more (the kernel does it inside tlb_remove_page, or in
 * zap_pte_range on force_flush). Names the step so frees are attributed to it.
 */
export function forceFlush(tlb: GatherOps): void {
  tlb.flushMmu();
}

/** tlb_fast_mode as an option (2.6-era ARM and ia64): with one CPU online, free at once instead of batching. */
export const FAST_MODE_OPTION = { key: 'fastMode', values: [false, true], summary: 'tlb_fast_mode (one CPU online): free at once, no batching' } as const;
