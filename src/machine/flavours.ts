import type { MachineConfig } from './config.js';
import { SPECULATION } from './flavours/speculation.js';
import { ia64 } from './flavours/ia64.js';
import { sh4 } from './flavours/sh4.js';
import { x86Invlpgb } from './flavours/x86-invlpgb.js';
import type { Provenance } from './provenance.js';

/**
 * Hardware flavours: how a flush reaches the other CPUs, whether CPUs walk
 * speculatively, whether they cache table pointers and whether a leaf
 * invalidate drops the walk-cache entries covering it. Each carries the
 * architecture manual sections and kernel arch files that show the
 * behaviour, and what the machine leaves out (docs/fidelity.md, "Hardware
 * flavours").
 */
export interface HardwareFlavour {
  name: string;
  description: string;
  config: Partial<MachineConfig>;
  provenance: Provenance;
}

const ARM11MPCORE: Provenance = {
  version: 'ARMv6K: ARM11 MPCore',
  tree: 'SenberHu/Linux-Kernel-2.16 @7341fa283c72 (2.6.3x) for the kernel side',
  files: [
    'ARM11 MPCore Processor Technical Reference Manual: TLB maintenance operations act on the issuing core only',
    'arch/arm/include/asm/smp_plat.h tlb_ops_need_broadcast(): ID_MMFR3[15:12] < 2, so every flush_tlb_* goes by IPI',
    'arch/arm/kernel/smp.c (smp_tlb.c from 2.6.39) flush_tlb_mm/flush_tlb_range: on_each_cpu_mask(mm_cpumask(mm), ipi_flush_tlb_*, ..., 1) waits for every CPU',
    'arch/arm/include/asm/tlb.h (06824ba824b3): "ARMv7 speculative prefetch can drag new entries into the TLB" — ARMv6 is the case without',
  ],
  deviations: [
    'No micro-TLBs: one data TLB and one instruction TLB per CPU.',
    'An IPI is taken between two simulated instructions, never inside one.',
  ],
};

const ARMV7_MP: Provenance = {
  version: 'ARMv7-A with the Multiprocessing Extensions (Cortex-A9/A15 class)',
  tree: 'SenberHu/Linux-Kernel-2.16 @7341fa283c72 (2.6.3x) for the kernel side',
  files: [
    'ARM Architecture Reference Manual ARMv7-A/R (DDI 0406C), B3.10 "TLB maintenance requirements": Inner Shareable operations (TLBIMVAIS, TLBIASIDIS) reach every PE of the domain; a DSB waits for their completion; translation table walks may be made speculatively; an invalidate by MVA also removes cached intermediate walk entries for that MVA',
    'arch/arm/mm/tlb-v7.S v7wbi_flush_user_tlb_range: on SMP "mcr p15, 0, r0, c8, c3, 1 @ TLB invalidate U MVA (shareable)", then dsb',
    'arch/arm/include/asm/smp_plat.h tlb_ops_need_broadcast() is false (ID_MMFR3[15:12] >= 2): no flush IPIs',
  ],
  deviations: [
    "ARMv7's TLB invalidate by MVA is unified (I and D); the machine honours the policy's choice of I-TLB, so a non-exec range flush leaves I-TLB entries the hardware would drop.",
    'The walk cache is a small fully associative cache of PMD and PTE table pointers; real implementations differ in size and levels.',
    'Speculative walks happen at a fixed per-step probability over the workload ranges.',
  ],
};

const X86: Provenance = {
  version: 'x86-64 (Intel SDM, AMD APM) before broadcast invalidation (INVLPGB)',
  tree: 'SenberHu/Linux-Kernel-2.16 @7341fa283c72 (2.6.3x) for arch/x86/mm/gup.c',
  files: [
    'Intel SDM Vol. 3A 4.10.2 (TLBs: translations may be cached for speculative accesses), 4.10.3 (paging-structure caches), 4.10.4 (INVLPG invalidates the page\'s TLB entries and paging-structure-cache entries; MOV to CR3 all non-global ones), 4.10.5 (changes reach other processors only through software: IPI-based shootdown)',
    'arch/x86/mm/tlb.c flush_tlb_mm / flush_tlb_range: IPIs to mm_cpumask, waiting for each',
    'arch/x86/mm/gup.c get_user_pages_fast: local_irq_disable walk, relying on the flush IPI ("This doesn\'t prevent pagetable teardown, but does prevent the pagetables and pages from being freed on x86")',
  ],
  deviations: [
    'INVLPG invalidates all paging-structure-cache entries of the current PCID (SDM 4.10.4.1); the machine drops only walk-cache entries whose span covers the address, which keeps more stale pointers than the hardware would.',
    'No PCIDs, global pages or large pages; AMD INVLPGB broadcast invalidation is the flavour x86-invlpgb.',
  ],
};

const ARM64: Provenance = {
  version: 'ARMv8-A (AArch64)',
  tree: 'torvalds/linux (6.x) arch/arm64, and the linux-mm patches to arch/arm64/include/asm/tlb.h of 5.x-6.x',
  files: [
    'Arm Architecture Reference Manual for A-profile (DDI 0487), TLB maintenance instructions: TLBI VAE1IS invalidates every cached level for the VA, TLBI VALE1IS ("last level") only the leaf entry, both broadcast to the Inner Shareable domain and completed by DSB ISH',
    'arch/arm64/include/asm/tlb.h tlb_flush: last_level = !tlb->freed_tables; __flush_tlb_range(..., last_level, tlb_level)',
    'arch/arm64/include/asm/tlbflush.h __flush_tlb_range: vale1is when last_level, else vae1is; no IPIs',
  ],
  deviations: [
    'No TTL hints, range TLBI or stride: a range flush invalidates every page of the range.',
    'The walk cache holds PMD and PTE table pointers only (three-level tables).',
  ],
};

export const FLAVOURS: Readonly<Record<string, HardwareFlavour>> = Object.freeze({
  arm11mpcore: {
    name: 'arm11mpcore',
    description: 'ARM11 MPCore (ARMv6 SMP): TLB maintenance is local, flushes go by IPI; no speculative walks, no walk cache',
    config: { flush: 'ipi', speculation: 0, walkCache: 0, leafDropsWalkCache: true },
    provenance: ARM11MPCORE,
  },
  'armv7-mp': {
    name: 'armv7-mp',
    description: 'ARMv7 with the multiprocessing extensions: hardware-broadcast TLB invalidation, speculative walks, a walk cache whose entries go with any invalidate inside their span',
    config: { flush: 'broadcast', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: true },
    provenance: ARMV7_MP,
  },
  x86: {
    name: 'x86',
    description: 'x86: flushes go by IPI (INVLPG/CR3 are local); speculative walks; paging-structure caches dropped by INVLPG',
    config: { flush: 'ipi', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: true },
    provenance: X86,
  },
  arm64: {
    name: 'arm64',
    description: 'arm64: broadcast TLBI; speculative walks; leaf-only invalidates (TLBI VALE1IS) leave walk-cache entries alone',
    config: { flush: 'broadcast', speculation: SPECULATION, walkCache: 8, leafDropsWalkCache: false },
    provenance: ARM64,
  },
  sh4,
  ia64,
  'x86-invlpgb': x86Invlpgb,
});

export function flavourNames(): string[] {
  return Object.keys(FLAVOURS);
}

/** Whether `name` is a flavour's: an own key of FLAVOURS (never 'toString' and the like). */
export function isFlavourName(name: string): boolean {
  return Object.hasOwn(FLAVOURS, name);
}
