import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.1, the seed's bug. CPU 0 munmaps a region that CPUs 1..3,
 * running the same mm, keep reading and writing through their TLBs. ARM
 * before "ARM: tlb: delay page freeing for SMP and ARMv7 CPUs" frees each
 * page in tlb_remove_page, while zapping, and flushes only in tlb_end_vma:
 * in between, a page is free (and soon someone else's) while the other CPUs
 * still translate to it. The delayed-free fix batches the frees after the
 * flush.
 *
 * Seed rows (each kernel on hardware it ran on): ARM before and after the
 * fix on ARM11 MPCore and ARMv7 MP; sh 2.6.38 on SH-4A SMP, which frees data
 * pages in tlb_remove_page exactly as ARM did before the fix (caught: the
 * other CPUs' TLB entries were filled on demand, no speculation needed); ia64
 * 2.6.38 on Itanium, whose tlb_remove_page batches pages until
 * ia64_tlb_flush_mmu has purged them (clean). The generic rows are
 * hypothetical pairings (smpsim list).
 */
const DATA = { start: 0, pages: 48 };

export default defineScenario({
  name: 'arm-delayed-free',
  title: 'ARM SMP delayed free: munmap frees pages before the TLB flush',
  description:
    'CPU 0 munmaps a 48-page region that CPUs 1..n-1 (same mm) are reading and writing. A policy that frees a page before the flush leaves the other CPUs a translation to a free or reallocated frame; the checker sees an access whose frame generation at fill differs from the current one. Each expectation rests on the munmap row of its policy in docs/fidelity.md and on the section of its hardware flavour (row ids beside the combinations).',
  domain: '5.1',
  cpus: 4,
  iterations: 200,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: DATA.start, pages: DATA.pages, write: true },
  ],
  script: [
    // Let the other CPUs fill their TLBs with the region first.
    { op: 'waitSteps', steps: 600 },
    { op: 'munmap', asid: 0, start: DATA.start, end: DATA.start + DATA.pages },
  ],
  workload: () => ({ spaces: [0], ranges: [DATA], mix: { load: 2, store: 1 } }),
  combinations: [
    // `munmap:arm-2.6.37`: each page is freed in tlb_remove_page, before the tlb_end_vma flush; other CPUs
    // of the mm still translate to it on IPI hardware (`hw:arm11mpcore`) and on broadcast hardware (`hw:armv7-mp`).
    { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' },
    { arch: 'arm-2.6.37', hw: 'armv7-mp', expect: 'caught' },
    // `munmap:arm-2.6.38`, the delayed-free fix: pages wait in the batch until a flush that covers them.
    { arch: 'arm-2.6.38', hw: 'arm11mpcore', expect: 'clean' },
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
    // `munmap:sh-2.6.38` on `hw:sh4`: sh frees each page in tlb_remove_page too, the same race on its own hardware.
    { arch: 'sh-2.6.38', hw: 'sh4', expect: 'caught' },
    // `munmap:ia64-2.6.38` on `hw:ia64`: pages batched until a flush of the removed range.
    { arch: 'ia64-2.6.38', hw: 'ia64', expect: 'clean' },
    // `munmap:generic-2011-series`, `munmap:generic-range`, `munmap:linux-6`: pages wait in the batch until a
    // flush that covers them.
    { arch: 'generic-2011-series', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'generic-range', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' },
  ],
});
