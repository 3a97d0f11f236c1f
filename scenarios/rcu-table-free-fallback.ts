import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.5: the table batch cannot be allocated, and the fallback frees
 * a page table that hardware walkers still point at.
 *
 * linux-6's tlb_remove_table queues page tables in a batch page that it
 * allocates with GFP_NOWAIT. Under memory pressure that allocation fails
 * (this scenario's tableBatchAlloc: 'fails'), and the table goes down
 * tlb_remove_table_one: an IPI to every CPU (smp_call_function), which waits
 * out software walkers running with interrupts off (gup_fast), then the
 * table is freed at once. Before d86564a2f085 (4.19, "mm/tlb, x86/mm:
 * Support invalidating TLB caches for RCU_TABLE_FREE", found by Jann Horn on
 * x86) nothing was invalidated first: the IPI does nothing to the pointers to
 * the table that hardware walkers keep in their paging-structure (walk)
 * caches. The fix calls tlb_table_invalidate (the pending flush, walk caches
 * included) before tlb_remove_table_one.
 *
 * CPU 0 munmaps [64, 128), one PTE table's span that CPUs 1..n-1 never
 * access but walk speculatively (they store to [0, 16)). It holds in
 * free_pgtables, after the end_vma flush and before pmd_clear, for a while:
 * where a leaf flush drops walk-cache entries (hw:x86), speculative walks
 * refill them there, as they would while a real CPU stalls; on leaf-only
 * hardware (hw:arm64) the warm-up's entries survive anyway. Then pmd_clear,
 * pte_free_tlb and the fallback. Without the invalidate a speculative walk
 * reads the freed table through the walk cache (walker-read-freed-table)
 * until the gather's final flush in tlb_finish_mmu drops the entry; CPU 0
 * holds there too, to leave that window open as long as a stalled CPU would.
 */
const LIVE = { start: 0, pages: 16 };
const DOOMED = { start: 64, pages: 64 };

export default defineScenario({
  name: 'rcu-table-free-fallback',
  title: 'Table batch allocation fails: tlb_remove_table_one frees a table without invalidating walk caches',
  description:
    'CPU 0 munmaps a whole PTE table span that CPUs 1..n-1 (same mm) walk speculatively, while tlb_remove_table cannot allocate its batch page, so each table goes through tlb_remove_table_one (IPI, then free at once). Before d86564a2f085 nothing invalidated the walk caches first, and a speculative walk reads the freed table; the checker sees a walker read of a free or reused table frame. Each expectation rests on the munmap row of linux-6 in docs/fidelity.md and on the section of its hardware flavour.',
  domain: '5.5',
  cpus: 4,
  iterations: 100,
  machine: { frames: 512 },
  tableBatchAlloc: 'fails',
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: LIVE.start, pages: LIVE.pages, write: true },
    { op: 'mmap', asid: 0, start: DOOMED.start, pages: DOOMED.pages, write: false },
  ],
  script: [
    // Let speculative walks fill the walk caches with the doomed range's PTE table.
    { op: 'waitSteps', steps: 600 },
    // Between the end_vma flush and pmd_clear: walks may refill what the flush dropped.
    { op: 'holdPoint', point: 'munmap/free_pgtables', steps: 3000 },
    // The table is freed inside free_pgtables; the gather's final flush (walk caches named) comes at
    // tlb_finish_mmu. A CPU stalled in between leaves the freed table reachable for longer.
    { op: 'holdPoint', point: 'munmap/tlb_finish_mmu', steps: 3000 },
    { op: 'munmap', asid: 0, start: DOOMED.start, end: DOOMED.start + DOOMED.pages },
    // The program runs on; its speculative walks still go to the old range.
    { op: 'waitSteps', steps: 2000 },
  ],
  workload: () => ({ spaces: [0], ranges: [LIVE, { ...DOOMED, write: false }], mix: { load: 0, store: 1 } }),
  combinations: [
    // `munmap:linux-6` with tableFallback=no-invalidate (before d86564a2f085): the fallback only IPIs and frees;
    // the walk caches of `hw:x86` (refilled after the leaf flush) and of `hw:arm64` (never dropped by a leaf flush) survive.
    { arch: 'linux-6', archOptions: { tableFallback: 'no-invalidate' }, hw: 'x86', expect: 'caught' },
    { arch: 'linux-6', archOptions: { tableFallback: 'no-invalidate' }, hw: 'arm64', expect: 'caught' },
    // `munmap:linux-6` (d86564a2f085): tlb_table_invalidate flushes with the walk caches named first,
    // on `hw:x86`, `hw:arm64` and `hw:armv7-mp` alike.
    { arch: 'linux-6', hw: 'x86', expect: 'clean' },
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' },
  ],
});
