import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.2: a speculative walk through a freed page table.
 *
 * CPU 0 munmaps two adjacent vmas, [64, 128) read-only and [128, 192)
 * writable, each exactly one PTE table's span (64 pages), so free_pgtables
 * unhooks and frees both PTE tables. CPUs 1..n-1 run the same mm: they store
 * to a live vma [0, 16) that stays mapped and never access the doomed range
 * at all. Only their speculative walks (the flavour's rate) go there, and
 * those fill the walk cache with pointers to the two PTE tables.
 *
 * When a table is freed and no invalidate that drops walk-cache entries
 * covers its span first, a walk-cache entry can still point at it. After the
 * munmap CPU 0 maps and faults in a new region, which (LIFO allocator) takes
 * the freed frames again, one as a PTE table and one as data, and lets the
 * other CPUs run on: their next speculative walk into the old range reads
 * the reused frame as a PTE table. The checker sees a walker read of a table
 * frame that is free or has a new generation (WALK_TABLE).
 *
 * Where a stale walk-cache entry comes from:
 * - leaf-only hardware (arm64): no leaf or range invalidate drops walk-cache
 *   entries, so the entries filled during the warm-up survive every flush
 *   except a whole-mm one or one that names the walk cache;
 * - hardware whose leaf invalidates drop them (armv7-mp, x86): the end_vma
 *   range flush drops them, but the pmd entry still points at the table
 *   until free_pgtables clears it, so a speculative walk in between refills
 *   the walk cache. Two vmas make that window the zap of the second vma for
 *   the first table; only a flush after pmd_clear closes it.
 *
 * Data pages are never accessed by the other CPUs, so the data side of
 * race 1 (which arm-2.6.37 and sh-2.6.38 also have) stays silent here.
 *
 * The seed's systems on their own hardware: ARM11 MPCore and SH-4A neither
 * walk speculatively nor cache table pointers, so nothing can reach a freed
 * table there (clean, whatever the policy). ia64 parks the tables on the
 * freeing CPU's quicklist, purges the range and its VHPT range in
 * tlb_finish_mmu, and only then hands a table out again (REUSE's PTE table
 * comes from that quicklist): clean. sh on walk-cache hardware (hypothetical)
 * never flushes after free_pgtables, so the quicklist hands out a table that
 * walk caches still point at: caught.
 */
const LIVE = { start: 0, pages: 16 };
const RO = { start: 64, pages: 64 };
const RW = { start: 128, pages: 64 };
const REUSE = { start: 256, pages: 8 };

export default defineScenario({
  name: 'speculative-table-walk',
  title: 'Speculative walk through a page table freed before a flush that covers it',
  description:
    'CPU 0 munmaps two whole-table vmas that CPUs 1..n-1 (same mm) never access but walk speculatively, then reuses the freed frames. A policy that frees a PTE table without first invalidating the walk-cache entries that point at it lets a speculative walk read the freed or reused frame as a page table; the checker sees a walker read of a table frame that is free or has a new generation. Each expectation rests on the munmap row of its policy in docs/fidelity.md and on the section of its hardware flavour (row ids beside the combinations).',
  domain: '5.2',
  cpus: 4,
  iterations: 200,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: LIVE.start, pages: LIVE.pages, write: true },
    { op: 'mmap', asid: 0, start: RO.start, pages: RO.pages, write: false },
    { op: 'mmap', asid: 0, start: RW.start, pages: RW.pages, write: true },
  ],
  script: [
    // Let speculative walks fill the walk caches with the two PTE tables.
    { op: 'waitSteps', steps: 600 },
    { op: 'munmap', asid: 0, start: RO.start, end: RW.start + RW.pages },
    // The freed frames come back (LIFO), as a PTE table and as data.
    { op: 'mmap', asid: 0, start: REUSE.start, pages: REUSE.pages, write: true },
    // The program runs on; its speculative walks still go to the old range.
    { op: 'waitSteps', steps: 2000 },
  ],
  workload: () => ({
    spaces: [0],
    // Stores go to the live vma only (the others are not writable from the
    // workload's side and there are no loads): the doomed range is only
    // ever walked speculatively.
    ranges: [LIVE, { ...RO, write: false }, { ...RW, write: false }],
    mix: { load: 0, store: 1 },
  }),
  combinations: [
    // Seed rows. No speculative walks, no walk cache (`hw:arm11mpcore`, `hw:sh4`): nothing outlives the
    // unhooking, whatever `munmap:arm-2.6.37`, `munmap:arm-2.6.38` and `munmap:sh-2.6.38` free when.
    { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'clean' },
    { arch: 'arm-2.6.38', hw: 'arm11mpcore', expect: 'clean' },
    { arch: 'sh-2.6.38', hw: 'sh4', expect: 'clean' },
    // `munmap:ia64-2.6.38` on `hw:ia64`: tables parked on the quicklist; tlb_finish_mmu purges the VHPT
    // range before any reuse.
    { arch: 'ia64-2.6.38', hw: 'ia64', expect: 'clean' },
    // `munmap:arm-2.6.37`: tables freed at once in free_pgtables, and no flush after it (only fullmm
    // flushes in finish); walk caches outlive it (`hw:armv7-mp`, `hw:arm64`).
    { arch: 'arm-2.6.37', hw: 'armv7-mp', expect: 'caught' },
    { arch: 'arm-2.6.37', hw: 'arm64', expect: 'caught' },
    // Hypothetical: `munmap:sh-2.6.38` never flushes for the tables; the quicklist hands one out to REUSE
    // while walk caches (`hw:x86`) still point at it.
    { arch: 'sh-2.6.38', hw: 'x86', expect: 'caught' },
    { arch: 'sh-2.6.38', hw: 'arm64', expect: 'caught' },
    // Hypothetical: even on leaf-only hardware ia64's VHPT purge (a flush naming the walk cache) comes
    // before the quicklist can hand the table out.
    { arch: 'ia64-2.6.38', hw: 'arm64', expect: 'clean' },
    // `munmap:arm-2.6.38`, the delayed-free fix: the table waits for a flush of one page at its address,
    // which drops the walk-cache entries of its span where leaf invalidates do (armv7-mp, x86)...
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'arm-2.6.38', hw: 'x86', expect: 'clean' },
    // ...but not on leaf-only hardware (`hw:arm64`): the seed's "too small" range.
    { arch: 'arm-2.6.38', hw: 'arm64', expect: 'caught' },
    // `munmap:generic-2011-series`: table frees set need_flush again after end_vma: finish flushes the
    // whole mm, walk caches included.
    { arch: 'generic-2011-series', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'generic-2011-series', hw: 'arm64', expect: 'clean' },
    // `munmap:generic-range`: the tables' whole spans are in the flushed range: enough where a leaf
    // invalidate drops walk-cache entries...
    { arch: 'generic-range', hw: 'armv7-mp', expect: 'clean' },
    // ...not on leaf-only hardware, which is why later kernels track freed_tables.
    { arch: 'generic-range', hw: 'arm64', expect: 'caught' },
    // `munmap:linux-6`: freed_tables: the flush names the walk cache (arm64's non-leaf TLBI) before the tables go.
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
  ],
});
