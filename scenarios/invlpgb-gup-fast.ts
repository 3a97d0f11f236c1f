import { defineScenario } from 'smpsim';
import { gupFastRace } from './gup-fast-race.js';

/**
 * docs/domain.md 4 and 5.4 on today's x86: broadcast invalidation (AMD INVLPGB)
 * removes the IPI that used to protect get_user_pages_fast.
 *
 * CPU 1 runs gup_fast (interrupts off, one table level per step) over a
 * 128-page region, two whole PTE tables, while CPU 0 munmaps it (tables
 * included), maps it again and munmaps it once more.
 *
 * On x86 before INVLPGB a flush is an IPI, and a CPU with interrupts off
 * cannot take it: the flush, and every free after it, waits until the walk
 * is over. So native x86 freed page tables with the pages, after the flush
 * (___pte_free_tlb → tlb_remove_page). With INVLPGB (Linux 6.15, for an mm
 * active on several CPUs) nobody is interrupted: the invalidation completes
 * (TLBSYNC) while the walker still has interrupts off, and a table freed
 * right after it is freed under the walker. That is why a37259732a7d
 * ("x86/mm: Make MMU_GATHER_RCU_TABLE_FREE unconditional") came with the
 * INVLPGB series: page tables now go through tlb_remove_table, freed after a
 * grace period that an interrupts-off walk holds up (smpsim: after a
 * synchronising IPI on broadcast hardware).
 *
 * Which policies stay safe on x86-invlpgb: linux-6 as 6.15 has it (RCU table
 * free), yes; x86 native's page-batch table free (linux-6 tableFree:
 * page-batch, never shipped with INVLPGB) and the 2011 generic code, which
 * relied on the flush IPI, no. The checker sees gup_fast read a freed or
 * reused table (GUP_TABLE). CPUs in lazy TLB mode, which INVLPGB reaches
 * without an IPI, are in lazy-tlb-table-free.
 */
export default defineScenario({
  name: 'invlpgb-gup-fast',
  title: 'x86 with INVLPGB: gup_fast is no longer protected by a flush IPI',
  description:
    'CPU 1 (same mm) runs get_user_pages_fast with interrupts off over a region that CPU 0 munmaps, page tables included, on x86 with and without AMD INVLPGB broadcast invalidation. Without flush IPIs nothing waits for the walker, so a page table freed right after the flush is freed under it; RCU table freeing (x86 since 6.15) waits it out. The checker sees gup_fast read a freed or reused table. Each expectation rests on the gup_fast and munmap rows of its policy in docs/fidelity.md and on the section of its hardware flavour.',
  domain: '5.4',
  // The machine, scripts and workload of gup-fast-vs-table-free: gup_fast on CPU 1, munmap twice on CPU 0.
  ...gupFastRace,
  combinations: [
    // `gup_fast:linux-6`, `munmap:linux-6` as 6.15 has it: tables freed through RCU (here: after a synchronising
    // IPI on broadcast hardware), on `hw:x86-invlpgb` and on IPI-flush `hw:x86` alike.
    { arch: 'linux-6', hw: 'x86-invlpgb', expect: 'clean' },
    { arch: 'linux-6', hw: 'x86', expect: 'clean' },
    // `munmap:linux-6` with tableFree=page-batch, x86 native before a37259732a7d: safe while the flush is an IPI
    // (`hw:x86`)...
    { arch: 'linux-6', archOptions: { tableFree: 'page-batch' }, hw: 'x86', expect: 'clean' },
    // ...not with INVLPGB (`hw:x86-invlpgb`): the table goes right after a flush nobody had to acknowledge.
    { arch: 'linux-6', archOptions: { tableFree: 'page-batch' }, hw: 'x86-invlpgb', expect: 'caught' },
    // Hypothetical: `gup_fast:generic-2011-series`, `munmap:generic-2011-series` (2011 x86: interrupts off only,
    // tables in the page batch) on INVLPGB hardware.
    { arch: 'generic-2011-series', hw: 'x86-invlpgb', expect: 'caught' },
  ],
});
