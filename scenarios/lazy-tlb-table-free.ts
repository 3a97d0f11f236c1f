import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.6: a CPU in lazy TLB mode is skipped by the flush that should
 * have dropped its pointer to a page table, and walks the freed table.
 *
 * CPUs 1..n-1 share CPU 0's mm and spend most of their time in the idle
 * task: a kernel thread, so the CPU is in lazy TLB mode with the mm still
 * loaded (x86's enter_lazy_tlb). It makes no user access there, but its
 * hardware keeps walking the mm speculatively, filling its walk cache with
 * pointers to the PTE tables of the ranges it ran on.
 *
 * CPU 0 frees two PTE tables, one way each:
 *  - munmap of [64, 128): zap, free_pgtables, and the gather's flush with
 *    freed_tables set (walk caches included), then the table is freed;
 *  - khugepaged collapsing [128, 192): pmdp_collapse_flush clears the pmd
 *    and calls flush_tlb_range, then the old table is freed (pte_free).
 *
 * Why a table free must reach a lazy CPU although a leaf flush need not: the
 * lazy CPU flushes what it missed when it switches back (tlb_gen), before
 * any user access; but meanwhile its walks follow walk-cache pointers, and a
 * table freed under one is read as page-table entries. Since 4.20
 * (145f573b89a6, 016c4d92cd16) x86 IPIs lazy CPUs only for flushes with
 * freed_tables, and the IPI makes them leave the mm. The checker sees a
 * speculative walk read a free or reused table (walker-read-freed-table).
 *
 *  - lazyTlb=merge-window-2018: the 2018 "lazier" patches as they stood in
 *    the 4.19 merge window skipped lazy CPUs for every flush, and the IPI
 *    meant to reach them at table-free time went to the CPUs that were not
 *    lazy (mm_fill_lazy_tlb_cpu_mask); reverted before 4.19-rc1. The munmap
 *    is caught, and so is the collapse.
 *  - flushTlbRange=leaf (4.20 to 6.13): flush_tlb_range passed
 *    freed_tables = false, so pmdp_collapse_flush skipped lazy CPUs while
 *    khugepaged freed a table (fixed by 3ef938c35035, Jann Horn, 2025). The
 *    collapse is caught; the munmap, whose gather sets freed_tables, is not.
 *
 * Every CPU's ranges: [0, 16) written, [64, 192) read-only (never accessed,
 * walked speculatively), three PTE tables' spans with 64-entry tables.
 */
const LIVE = { start: 0, pages: 16 };
const DOOMED = { start: 64, pages: 64 };
const COLLAPSED = { start: 128, pages: 64 };

export default defineScenario({
  name: 'lazy-tlb-table-free',
  title: 'Lazy TLB: a flush that skips lazy CPUs frees a table their walk caches still point at',
  description:
    'CPUs 1..n-1 (same mm) are mostly idle, in lazy TLB mode with the mm loaded, walking it speculatively; CPU 0 munmaps one PTE table span and khugepaged collapses another, freeing both tables. A kernel whose table-freeing flush skips lazy CPUs (x86 in the 2018 merge window; flush_tlb_range before 3ef938c35035 for the collapse) leaves their walk-cache pointers to the freed tables, and a speculative walk reads one: the checker sees a walker read of a freed or reused table. Each expectation rests on the lazy TLB rows of linux-6 in docs/fidelity.md and on the section of its hardware flavour.',
  domain: '5.6',
  cpus: 4,
  iterations: 100,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: LIVE.start, pages: LIVE.pages, write: true },
    { op: 'mmap', asid: 0, start: DOOMED.start, pages: DOOMED.pages, write: false },
    { op: 'mmap', asid: 0, start: COLLAPSED.start, pages: COLLAPSED.pages, write: false },
  ],
  script: [
    // The idle CPUs' speculative walks fill their walk caches with the three tables.
    { op: 'waitSteps', steps: 800 },
    { op: 'munmap', asid: 0, start: DOOMED.start, end: DOOMED.start + DOOMED.pages },
    { op: 'waitSteps', steps: 2000 },
    { op: 'collapse', asid: 0, vpn: COLLAPSED.start },
    // The lazy CPUs go on walking; one still pointing at a freed table reads it.
    { op: 'waitSteps', steps: 3200 },
  ],
  // One store, then an idle period of 300 steps (lazy TLB mode): a CPU is lazy most of the time.
  workload: () => ({ spaces: [0], ranges: [LIVE, { ...DOOMED, write: false }, { ...COLLAPSED, write: false }], mix: { load: 0, store: 1, idle: 1 }, idleSteps: 300 }),
  combinations: [
    // `lazy:linux-6` lazyTlb=merge-window-2018 on `hw:x86`: no flush IPI reaches a lazy CPU.
    { arch: 'linux-6', archOptions: { lazyTlb: 'merge-window-2018' }, hw: 'x86', expect: 'caught' },
    // `lazy:linux-6` flushTlbRange=leaf (4.20-6.13) on `hw:x86`: pmdp_collapse_flush passes freed_tables = false.
    { arch: 'linux-6', archOptions: { flushTlbRange: 'leaf' }, hw: 'x86', expect: 'caught' },
    // `lazy:linux-6` as today (freed_tables IPIs, 3ef938c35035) and as up to 4.19 (every IPI to lazy CPUs) on `hw:x86`.
    { arch: 'linux-6', hw: 'x86', expect: 'clean' },
    { arch: 'linux-6', archOptions: { lazyTlb: 'ipi-lazy', flushTlbRange: 'leaf' }, hw: 'x86', expect: 'clean' },
    // Hypothetical pairing: the merge-window rules on `hw:x86-invlpgb` and `hw:arm64`: a broadcast invalidation
    // reaches lazy CPUs without an IPI, so skipping them in the IPI mask changes nothing.
    { arch: 'linux-6', archOptions: { lazyTlb: 'merge-window-2018', flushTlbRange: 'leaf' }, hw: 'x86-invlpgb', expect: 'clean' },
    { arch: 'linux-6', archOptions: { lazyTlb: 'merge-window-2018' }, hw: 'arm64', expect: 'clean' },
  ],
});
