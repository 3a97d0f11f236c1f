import { defineScenario } from 'smpsim';
import { gupFastRace } from './gup-fast-race.js';

/**
 * docs/domain.md 5.4: get_user_pages_fast against a page-table free.
 *
 * CPUs 1..n-1 run gup_fast (a lockless software walk with interrupts off:
 * pgd, pmd, PTE table, pin, one step each) over a 128-page region,
 * two whole PTE tables, while CPU 0 munmaps it: unmap_region zaps the PTEs,
 * free_pgtables unhooks both tables, the gather flushes and frees them.
 *
 * With IPI flushes (x86, arm11mpcore) the flush cannot complete while a
 * walker has interrupts off, so a walk that read the pmd entry before
 * pmd_clear has finished before the table is freed. With hardware-broadcast
 * flushes (armv7-mp, arm64) nobody is interrupted: the invalidate completes
 * between two steps of the walk, and the table (or the data page the walk
 * read from it) is freed under the walker. Those architectures free tables
 * through RCU or after a synchronising IPI (tlb_remove_table_sync_one, the
 * linux-6 policy). The checker sees gup_fast read a table frame that is free
 * or reused (GUP_TABLE), or pin a data frame that was freed (GUP_PIN).
 *
 * The region is mapped again after the munmap and unmapped once more, so an
 * iteration has two chances to catch a walk in flight.
 *
 * Each gup_fast call pins up to 8 pages of one PTE table (gup_pte_range),
 * with 256 instructions between two table reads (gupGap: the checks and
 * mappings the real walk does, and any stall of a CPU with interrupts off).
 * Two CPUs, the walker and CPU 0: a broadcast initiator waits until every
 * other CPU has passed a quiescence point, and with more threads than the
 * host has cores that wait is decided by the host's scheduler (it lasts
 * until the slowest descheduled thread runs again), which hides the window.
 * With one walker on a 2-core host the race shows in most iterations.
 */
export default defineScenario({
  name: 'gup-fast-vs-table-free',
  title: 'gup_fast walks a page table that munmap frees under it',
  description:
    'CPUs 1..n-1 (same mm) run get_user_pages_fast (interrupts off, one table level per step) over a region that CPU 0 munmaps, page tables included. With a hardware-broadcast flush nothing waits for the walker, and a policy that frees tables right after the flush frees them under it; an IPI flush, RCU table freeing or a synchronising IPI waits it out. The checker sees gup_fast read a freed or reused table, or pin a freed page. Each expectation rests on the gup_fast and munmap rows of its policy in docs/fidelity.md and on the section of its hardware flavour (row ids beside the combinations). Each expectation rests on the rows of docs/fidelity.md named beside the combinations (path:policy for the kernel, hw:flavour for the machine).',
  domain: '5.4',
  ...gupFastRace,
  combinations: [
    // Seed row. `gup_fast:sh-2.6.38` (interrupts off, get_page, no recheck) with `munmap:sh-2.6.38` (data
    // pages freed in tlb_remove_page, before any flush) on `hw:sh4` (IPI flushes): an IPI flush cannot help a
    // free that does not wait for it. ARM got gup_fast only years later and ia64 never had one
    // (`gup_fast:arm-2.6.37`, `gup_fast:ia64-2.6.38`), so they have no row here.
    { arch: 'sh-2.6.38', hw: 'sh4', expect: 'caught' },
    // Hypothetical: `gup_fast:generic-2011-series`, `gup_fast:generic-range` (interrupts off only, no RCU table
    // freeing) on broadcast hardware (`hw:armv7-mp`, `hw:arm64`): tables are freed from the batch right after
    // the flush (`munmap:generic-2011-series`, `munmap:generic-range`) and nothing waits for the walker.
    { arch: 'generic-2011-series', hw: 'armv7-mp', expect: 'caught' },
    { arch: 'generic-2011-series', hw: 'arm64', expect: 'caught' },
    { arch: 'generic-range', hw: 'armv7-mp', expect: 'caught' },
    // IPI flush (`hw:x86`, `hw:arm11mpcore`): the flush waits for the walker's CPU to take the IPI, after the walk.
    { arch: 'generic-2011-series', hw: 'x86', expect: 'clean' },
    { arch: 'generic-2011-series', hw: 'arm11mpcore', expect: 'clean' },
    // `gup_fast:linux-6`, `munmap:linux-6`: speculative reference and recheck for the pages; the table batch
    // is freed only after tlb_remove_table_sync_one on broadcast hardware.
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
    { arch: 'linux-6', hw: 'x86', expect: 'clean' },
  ],
});
