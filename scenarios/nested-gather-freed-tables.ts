import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.9: a munmap that frees a page table, nested with a madvise's
 * gather on the same mm, loses freed_tables.
 *
 * Since 4.20 (dd2283f2605e) munmap detaches the vmas under mmap_lock for
 * write, downgrades it to read, and zaps and frees the page tables under the
 * read lock, so a madvise(DONTNEED) on another range of the mm may gather at
 * the same time. CPU 0 munmaps [0, 48), the only vma in its PTE table, so
 * free_pgtables frees that table T (freed_tables). CPU 1 madvises [256, 264),
 * another vma in another table, and stays inside its gather until CPU 0's
 * munmap has returned. CPU 0's tlb_finish_mmu sees tlb_flush_pending > 1.
 *
 * 4.20-5.1 (a6d60245d6d9) then did __tlb_reset_range and
 * __tlb_adjust_range(start, end): the forced flush covered the munmap range
 * but the reset dropped freed_tables, so on arm64 it was a leaf-only TLBI,
 * which leaves walk-cache entries alone. CPUs 2..n-1 had walked through T
 * (their walk caches point at it); T is freed after the flush; their next
 * walk of [0, 48) reads T through the walk cache: walker-read-freed-table.
 * Jan Stancek saw this as hangs on aarch64; 7a30df49f63a (5.2) makes the
 * nested finish a full-mm flush with freed_tables set.
 *
 * x86's range flush (INVLPG) drops the paging-structure caches of the
 * addresses it covers (hw:x86), so the lost bit is harmless there. Kernels
 * whose munmap holds mmap_lock for write throughout cannot nest the two
 * gathers: CPU 1 waits for the lock, CPU 0's hold ends (it cannot be
 * satisfied), and the calls run one after the other.
 */
const A = { start: 0, pages: 48 };
const B = { start: 256, pages: 8 };

export default defineScenario({
  name: 'nested-gather-freed-tables',
  title: 'Nested gathers: munmap under the read lock loses freed_tables beside a madvise',
  description:
    'CPU 0 munmaps a range whose PTE table it frees while CPU 1 has a madvise(DONTNEED) gather in flight on the same mm (munmap zaps under the read lock since 4.20). With the 4.20-5.1 nested finish, the forced flush is leaf-only (freed_tables lost), walk-cache entries to the freed table survive on arm64, and CPUs 2..n-1 walk through it. Each expectation rests on the munmap row of linux-6 in docs/fidelity.md and on the section of its hardware flavour.',
  domain: '5.9',
  cpus: 4,
  iterations: 100,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: A.start, pages: A.pages, write: true },
    { op: 'mmap', asid: 0, start: B.start, pages: B.pages, write: true },
  ],
  script: [
    // Let the other CPUs fill TLBs and walk caches.
    { op: 'waitSteps', steps: 600 },
    // CPU 0 enters its final flush only once CPU 1's gather is in flight, tlb_flush_pending raised (if its locking lets CPU 1 in).
    { op: 'holdPoint', point: 'munmap/tlb_finish_mmu', until: { cpu: 1, point: 'madvise(DONTNEED)/tlb_start_vma' } },
    { op: 'munmap', asid: 0, start: A.start, end: A.start + A.pages },
  ],
  kernelCpus: [
    {
      cpu: 1,
      script: [
        { op: 'switchMm', asid: 0 },
        { op: 'waitPoint', cpu: 0, point: 'munmap/free_pgtables' },
        // Stay inside the gather (tlb_flush_pending raised) until the munmap has returned.
        { op: 'holdPoint', point: 'madvise(DONTNEED)/tlb_end_vma', until: { cpu: 0, point: 'munmap/return' } },
        { op: 'madvise', asid: 0, start: B.start, end: B.start + B.pages },
      ],
    },
  ],
  workload: () => ({ spaces: [0], ranges: [A, B], mix: { load: 2, store: 1 } }),
  // Without a table batch page, tlb_remove_table's fallback invalidates and frees the table inside
  // free_pgtables, before the nested finish that loses freed_tables; a table batch of one (smpsim sizes it
  // as the page batch) is full at the first table, and tlb_table_flush invalidates and frees it there too.
  sweepExempt: (k) =>
    k.tableBatchAlloc === 'fails'
      ? 'tables take tlb_remove_table_one, invalidated and freed before the nested finish'
      : k.batchCapacity === 1
        ? 'a table batch of one is flushed (walk caches named) and freed in free_pgtables, before the nested finish'
        : null,
  combinations: [
    // `munmap:linux-6` with nested=range-drops-freed-tables (4.20-5.1): leaf-only forced flush on `hw:arm64`.
    { arch: 'linux-6', archOptions: { nested: 'range-drops-freed-tables' }, hw: 'arm64', expect: 'caught' },
    // The same on `hw:x86`, whose range flush drops the walk caches it covers.
    { arch: 'linux-6', archOptions: { nested: 'range-drops-freed-tables' }, hw: 'x86', expect: 'clean' },
    // `munmap:linux-6` (7a30df49f63a): the nested finish flushes the whole mm, walk caches included.
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
    { arch: 'linux-6', hw: 'x86', expect: 'clean' },
    // 4.13-4.19's nested finish keeps the level bits (and munmap then held the write lock anyway).
    { arch: 'linux-6', archOptions: { nested: 'adjust-range' }, hw: 'arm64', expect: 'clean' },
    // `munmap:arm-2.6.38` on `hw:armv7-mp`: mmap_sem held for write throughout munmap; no nesting possible.
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
  ],
});
