import type { HardwareFlavour } from '../flavours.js';
import type { Provenance } from '../provenance.js';

export const sh4Provenance: Provenance = {
  version: 'SH-4A SMP under Linux 2.6.38',
  tree: 'Savaged-Zen/Savaged-Zen (2.6.38.3); arch/sh/kernel/smp.c as found by find_string (2.6.3x)',
  files: ['arch/sh/include/asm/tlb.h', 'arch/sh/kernel/smp.c (flush_tlb_range, flush_tlb_mm: smp_call_function)', 'arch/sh/mm/fault_32.c, arch/sh/kernel/cpu/sh3/entry.S (software TLB miss path)'],
  deviations: [
    "When the mm has one user and is current, SH's flush_tlb_range/mm zeroes the other CPUs' cpu_context (a lazy ASID drop) instead of sending an IPI; the machine always sends the IPI to the mm's CPUs.",
    'The UTLB/ITLB geometry is the machine default, not SH-4A\'s 64-entry fully associative UTLB and 4-entry ITLB.',
    "leafDropsWalkCache is moot (there is no walk cache).",
  ],
};

/**
 * sh4: SH-4 / SH-4A SMP as Linux 2.6.38 drives it.
 *
 * The TLB is refilled in software: a miss traps (TLB miss exception, with
 * exceptions blocked) to a handler that walks pgd → pte from the pgd every
 * time and loads the UTLB with `ldtlb`. There is no hardware walker, so
 * nothing caches a pointer to a page-table page (walkCache 0), and nothing
 * fills a TLB entry unless an access missed (speculation 0): the only
 * translations a CPU holds are ones it used. The handler runs as one
 * instruction of the simulated CPU (exceptions are blocked while it runs, so
 * no IPI lands in the middle), which is what the machine's demand walk is.
 *
 * Flushes go by IPI: flush_tlb_range/mm/page (arch/sh/kernel/smp.c) call
 * smp_call_function and wait for every other CPU; a CPU with interrupts off
 * cannot take one.
 */
export const sh4: HardwareFlavour = {
  name: 'sh4',
  description: 'SH-4/SH-4A SMP: software-refilled TLB (the miss handler walks the tables; no walk cache, no speculative fills); flushes go by IPI',
  config: { flush: 'ipi', speculation: 0, walkCache: 0, leafDropsWalkCache: true },
  provenance: sh4Provenance,
};
