import { defineScenario } from 'smpsim';

/**
 * The seed's open question about the range-tracking proposal: once
 * flush_tlb_range takes an mm instead of a vma, the vma's VM_EXEC is gone, so
 * either every flush also invalidates the instruction TLBs (Peter's "tempted"
 * option, itlb 'always') or the gather carries an exec flag collected in
 * tlb_start_vma (itlb 'vma-exec'). generic-2011-series is the baseline: a range
 * flush per vma in tlb_end_vma with that vma's flags, then a whole-mm flush
 * in tlb_finish_mmu because free_pgtables set need_flush again.
 *
 * The process has a live heap [0, 16), a library's text [64, 128)
 * (executable) and its data [128, 192), each of the last two exactly one PTE
 * table's span. CPUs 1..n-1 (same mm) fetch from the first 8 pages of the
 * text, and load and store the heap and the first 8 pages of the data (loads
 * also go to the text); armv7-mp walks speculatively, filling the I-TLB from
 * the text. The working set (32 pages) fits the D-TLB and the text's 8 pages
 * the I-TLB, so what a flush throws away shows as misses and walks. CPU 0 munmaps the data first (no exec vma
 * in the gather: only 'always' flushes I-TLBs), then the text (exec: every
 * variant flushes I-TLBs), each freeing its PTE table.
 *
 * arm-2.6.38 on ARMv7 (a seed row, the code the series started from) is the
 * real baseline; the generic rows are hypothetical pairings (the series and
 * the proposal never shipped as modelled).
 *
 * All are correct (expected clean); this is a cost scenario: compare
 * the reports' kernel.flushes (total, mm vs range, itlb) and machine totals
 * (entries dropped, TLB misses and walks refilling what a whole-mm flush
 * threw away).
 */
const HEAP = { start: 0, pages: 16 };
const TEXT = { start: 64, pages: 64 };
const DATA = { start: 128, pages: 64 };
/** What the CPUs use of them: small enough to stay in the TLBs, so flush costs show as misses. */
const HOT = 8;

export default defineScenario({
  name: 'itlb-exec-policy',
  title: 'I-TLB flushing without the vma: exec flag in the gather vs always',
  description:
    'CPU 0 munmaps a non-executable and then an executable vma (each a whole page table) that CPUs 1..n-1 (same mm) use, fetching from the executable one. generic-2011-series flushes per vma with its exec flag, then the whole mm for the freed tables; generic-range flushes one range per gather and either carries an exec flag (vma-exec) or always flushes the I-TLBs. All are correct; the reports compare what they flush. Each expectation rests on the rows of docs/fidelity.md named beside the combinations (path:policy for the kernel, hw:flavour for the machine).',
  cpus: 4,
  iterations: 200,
  cost: true,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: HEAP.start, pages: HEAP.pages, write: true },
    { op: 'mmap', asid: 0, start: TEXT.start, pages: TEXT.pages, exec: true },
    { op: 'mmap', asid: 0, start: DATA.start, pages: DATA.pages, write: true },
  ],
  script: [
    { op: 'waitSteps', steps: 600 },
    { op: 'munmap', asid: 0, start: DATA.start, end: DATA.start + DATA.pages },
    { op: 'waitSteps', steps: 1200 },
    { op: 'munmap', asid: 0, start: TEXT.start, end: TEXT.start + TEXT.pages },
    // Let the others run on the heap after the last flush (what it cost them shows here).
    { op: 'waitSteps', steps: 1800 },
  ],
  workload: () => ({
    spaces: [0],
    ranges: [HEAP, { start: TEXT.start, pages: HOT, exec: true, write: false }, { start: DATA.start, pages: HOT }],
    mix: { load: 4, store: 2, fetch: 3 },
  }),
  combinations: [
    // `munmap:arm-2.6.38`, the seed's starting point on its own hardware (`hw:armv7-mp`): a range flush per
    // vma with that vma's exec flag, then one page per freed table with the last vma's flags.
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
    // `munmap:generic-2011-series` and `munmap:generic-range`: every page and table is freed after a flush
    // that covers it, with the I-TLB where the vma (or the option) says so.
    { arch: 'generic-2011-series', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'generic-range', archOptions: { itlb: 'vma-exec' }, hw: 'armv7-mp', expect: 'clean' },
    { arch: 'generic-range', archOptions: { itlb: 'always' }, hw: 'armv7-mp', expect: 'clean' },
  ],
});
