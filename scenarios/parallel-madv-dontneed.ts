import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.8: two madvise(MADV_DONTNEED) calls on one range, on two CPUs,
 * both under mmap_lock held for read.
 *
 * CPU 0's madvise clears the PTEs of [0, 48) (under each PTE table's lock)
 * and stops in tlb_end_vma, before whatever flush the policy makes there or
 * later: a CPU stalled in its window (holdPoint). CPU 1's madvise of the
 * same range then finds every PTE already clear: it queues nothing and
 * tracks no range. A kernel before 4.13 then flushes nothing and returns,
 * while CPUs 2..n-1 still hold writable TLB entries for the range. The
 * checker: when CPU 1's call returns, no TLB may hold a translation the call
 * promised to remove (stale-translation-after-return, naming CPU 1's call).
 *
 * The fix, 99baac21e458 (4.13, "mm: fix MADV_[FREE|DONTNEED] TLB flush miss
 * problem"): tlb_gather_mmu raises mm->tlb_flush_pending, and a
 * tlb_finish_mmu that sees another gather in flight (mm_tlb_flush_nested)
 * flushes the range anyway. linux-6 does so in every variant of its `nested`
 * option (full: the whole mm; the 4.20-5.1 and 4.13-4.19 variants: the
 * caller's range), so all three are clean here.
 *
 * CPU 0 holds its window until CPU 1's call has returned (its check done),
 * so the race happens in every iteration, in stress and pct mode alike; the
 * hold changes when CPU 0's code runs, never its order.
 */
const RANGE = { start: 0, pages: 48 };
const END = RANGE.start + RANGE.pages;

export default defineScenario({
  name: 'parallel-madv-dontneed',
  title: 'Parallel MADV_DONTNEED: the second call finds nothing to flush and returns early',
  description:
    'CPU 0 and CPU 1 madvise(DONTNEED) the same 48 pages under mmap_lock for read while CPUs 2..n-1 write them. CPU 0 has cleared the PTEs but not flushed; CPU 1 finds them clear, and a kernel without the tlb_flush_pending check (before 4.13) returns without flushing: the checker finds the other CPUs still translating the range after CPU 1 returned. Each expectation rests on the madvise row of its policy in docs/fidelity.md.',
  domain: '5.8',
  cpus: 4,
  iterations: 100,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: RANGE.start, pages: RANGE.pages, write: true },
  ],
  script: [
    { op: 'waitSteps', steps: 600 },
    // CPU 0: PTEs cleared, no flush yet, until CPU 1's madvise has returned.
    { op: 'holdPoint', point: 'madvise(DONTNEED)/tlb_end_vma', until: { cpu: 1, point: 'madvise(DONTNEED)/return' } },
    { op: 'madvise', asid: 0, start: RANGE.start, end: END },
  ],
  kernelCpus: [
    {
      cpu: 1,
      script: [
        { op: 'switchMm', asid: 0 },
        // CPU 1 starts its madvise once CPU 0 is inside its window.
        { op: 'waitPoint', cpu: 0, point: 'madvise(DONTNEED)/tlb_end_vma' },
        { op: 'madvise', asid: 0, start: RANGE.start, end: END },
      ],
    },
  ],
  workload: () => ({ spaces: [0], ranges: [RANGE], mix: { load: 1, store: 2 } }),
  // A batch that fills exactly on the range's last page is flushed (and freed) inside the zap: CPU 0
  // reaches tlb_end_vma with nothing pending, so there is no window for CPU 1 to return in. arm-2.6.37
  // and sh-2.6.38 free each page in tlb_remove_page, before any flush, whatever the batch: still caught.
  sweepExempt: (k, c) =>
    c.arch !== 'arm-2.6.37' && c.arch !== 'sh-2.6.38' && k.batchCapacity <= RANGE.pages && RANGE.pages % k.batchCapacity === 0
      ? `a batch of ${k.batchCapacity} is flushed on the range's last page: nothing is pending at tlb_end_vma`
      : null,
  combinations: [
    // `madvise:arm-2.6.38`, `madvise:arm-2.6.37` on `hw:arm11mpcore` and `hw:armv7-mp`: range flush in tlb_end_vma of what was removed; CPU 1 removed nothing.
    { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' },
    { arch: 'arm-2.6.38', hw: 'arm11mpcore', expect: 'caught' },
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'caught' },
    // `madvise:sh-2.6.38` on `hw:sh4`, `madvise:ia64-2.6.38` on `hw:ia64`: flush of the range removed, none.
    { arch: 'sh-2.6.38', hw: 'sh4', expect: 'caught' },
    { arch: 'ia64-2.6.38', hw: 'ia64', expect: 'caught' },
    // `madvise:generic-2011-series` on `hw:armv7-mp`: need_flush is never set by CPU 1's gather (hypothetical pairing).
    { arch: 'generic-2011-series', hw: 'armv7-mp', expect: 'caught' },
    // `madvise:linux-6` on `hw:x86` and `hw:arm64`: mm_tlb_flush_nested forces a flush (99baac21e458 and its successors).
    { arch: 'linux-6', hw: 'x86', expect: 'clean' },
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
    { arch: 'linux-6', archOptions: { nested: 'range-drops-freed-tables' }, hw: 'arm64', expect: 'clean' },
    { arch: 'linux-6', archOptions: { nested: 'adjust-range' }, hw: 'arm64', expect: 'clean' },
  ],
});
