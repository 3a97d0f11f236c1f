import { defineScenario } from 'smpsim';

/**
 * docs/domain.md 5.3: exec's shift_arg_pages frees the page table of the vacated
 * stack range, in a gather that sees no tlb_start_vma, no tlb_end_vma and no
 * tlb_remove_tlb_entry. The seed's hole: an architecture that flushes only in
 * tlb_end_vma or only when fullmm issues no flush for that table at all.
 *
 * The stack [168, 176) sits in the PTE table of [128, 192); exec moves it
 * down by 64 pages to [104, 112) (in the table of [64, 128)).
 * move_page_tables moves the PTEs and flushes the old range [168, 176); then
 * free_pgd_range(168, 176, floor 112, ceiling 0) unhooks and frees the table
 * of [128, 192), which no longer maps anything. CPU 0 then maps and faults in
 * the new program's first segment, [192, 200), which needs a PTE table of its
 * own: the freed frame comes back, as the segment's first data page (LIFO
 * allocator) or, where pte_free parks tables on the CPU's quicklist (ia64,
 * sh), as its PTE table. Then the other CPUs run on.
 *
 * CPUs 1..n-1 run the same mm. In the kernel the new mm is only live on the
 * exec'ing CPU (de_thread has killed the other threads); here CPU 0 plays the
 * kernel side and runs no user code, so the other CPUs stand in for that
 * CPU's hardware: they load and store the stack (old and new place) and a
 * live vma, and walk the stack speculatively at the flavour's rate. The
 * walk-cache entries they fill for the old table are what outlives it: on
 * leaf-only hardware (arm64) move_page_tables' range flush leaves them; where
 * a leaf invalidate drops them (armv7-mp, x86) a walk of the old range after
 * that flush, before free_pgd_range clears the pmd entry, fills one again.
 * The checker sees a walker read of a table frame that is free or has a new
 * generation (WALK_TABLE).
 *
 * The seed's systems on their own hardware. move_page_tables of 2.6.38
 * flushes each moved PTE (ptep_clear_flush). A walker meets the freed table
 * in two ways: through a cached pointer (walk cache, VHPT translation), or
 * as a walk in flight (it read the pmd entry before pmd_clear and reads the
 * table after it was freed and reused); only a flush after pmd_clear that
 * waits for other CPUs' instructions in flight (an IPI, or a broadcast with
 * its completion wait) closes the second.
 * - sh-2.6.38 on sh4 (caught): no cached pointers, but sh sends nothing after
 *   freeing the table (finish flushes only when fullmm), so a software TLB
 *   miss handler in flight on another CPU of the mm reads the table after
 *   CPU 0's quicklist has handed it to the new segment. The seed's "sh do[es]
 *   indeed suffer" holds on sh's own hardware, through the miss handler.
 * - arm-2.6.37 on arm11mpcore (caught): the same hole, the table straight
 *   back to the allocator; no walk cache is needed for it.
 * - ia64-2.6.38 on ia64 (clean): the table goes to the quicklist before any
 *   flush, but pte_free_tlb set need_flush and tlb_finish_mmu(new_end,
 *   old_end) purges that range and its VHPT range (ia64_thash), where the
 *   VHPT walker's pointers to the table live, with ptc.ga (which waits for
 *   walks in flight), before check_pgt_cache or the next table allocation
 *   can reuse it. In 2.6.38 the seed's "ia64 suffers" is only an ordering
 *   (the table is "freed" to the quicklist before the flush) that the
 *   quicklist makes harmless; it would hold for a pte_free that went straight
 *   to the page allocator. Clean on any hardware, since the purge names the
 *   walk cache.
 * - In a real exec only the exec'ing CPU runs the new mm; here other CPUs of
 *   the mm stand in for its hardware (and for threads reaching the same hole
 *   through munmap's free_pgtables).
 */
const LIVE = { start: 0, pages: 16 };
const STACK = { start: 168, pages: 8 };
const SHIFT = 64;
const NEW_STACK = { start: STACK.start - SHIFT, pages: STACK.pages };
const SEGMENT = { start: 192, pages: 8 };

export default defineScenario({
  name: 'shift-arg-pages',
  title: "exec's shift_arg_pages frees the vacated stack's page table without a flush",
  description:
    "CPU 0 runs exec's shift_arg_pages: the stack moves down by 64 pages and free_pgd_range frees the PTE table of the vacated range in a gather that sees no vma and no removed entry; then the freed frame is reused. CPUs 1..n-1 (same mm) use the stack and walk it speculatively. An architecture that flushes only in tlb_end_vma or only for fullmm frees the table with walk-cache entries still pointing at it; the checker sees a walker read of a table frame that is free or has a new generation. On their own hardware sh 2.6.38 is caught (no walk cache on SH-4A, but nothing waits for a software miss handler in flight on another CPU, which reads the table after the quicklist reused it) and ia64 2.6.38 is clean: tlb_finish_mmu purges the range and its VHPT range before its quicklist can hand the table out, so the seed's 'ia64 suffers' holds only as an ordering. Each expectation rests on the rows of docs/fidelity.md named beside the combinations (path:policy for the kernel, hw:flavour for the machine).",
  domain: '5.3',
  cpus: 4,
  iterations: 200,
  machine: { frames: 512 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: LIVE.start, pages: LIVE.pages, write: true },
    { op: 'mmap', asid: 0, start: STACK.start, pages: STACK.pages, write: true },
  ],
  script: [
    // Let the other CPUs walk the stack (walk caches point at its table).
    { op: 'waitSteps', steps: 600 },
    { op: 'shiftArgPages', asid: 0, vmaStart: STACK.start, shift: SHIFT },
    // The new program's first segment, in a PTE table of its own: the old table's frame comes back.
    { op: 'mmap', asid: 0, start: SEGMENT.start, pages: SEGMENT.pages, write: true },
    { op: 'waitSteps', steps: 2000 },
  ],
  workload: () => ({
    spaces: [0],
    // Accesses to whichever stack place is unmapped fault, harmlessly.
    ranges: [LIVE, STACK, NEW_STACK],
    mix: { load: 2, store: 1 },
  }),
  combinations: [
    // Seed rows. `shift_arg_pages:sh-2.6.38` on `hw:sh4`: no flush after the table free; a software miss
    // handler in flight on another CPU reads the table after the quicklist handed it to the new segment.
    { arch: 'sh-2.6.38', hw: 'sh4', expect: 'caught' },
    // `shift_arg_pages:ia64-2.6.38` on `hw:ia64`: need_flush from pte_free_tlb: finish purges
    // [new_end, old_end) and its VHPT range before any reuse.
    { arch: 'ia64-2.6.38', hw: 'ia64', expect: 'clean' },
    // `shift_arg_pages:arm-2.6.37` on `hw:arm11mpcore`: no walk cache, but a hardware walk in flight meets the
    // table freed without a flush.
    { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' },
    // `shift_arg_pages:arm-2.6.38`: no vma seen: a whole-mm flush by IPI (which waits for walks in flight)
    // before the batch is freed.
    { arch: 'arm-2.6.38', hw: 'arm11mpcore', expect: 'clean' },
    // `shift_arg_pages:arm-2.6.37`: no vma, no fullmm: no flush at all after the table is freed (at once), and
    // walk caches keep pointing at it (`hw:armv7-mp`, `hw:arm64`).
    { arch: 'arm-2.6.37', hw: 'armv7-mp', expect: 'caught' },
    { arch: 'arm-2.6.37', hw: 'arm64', expect: 'caught' },
    // Hypothetical: the same hole (`shift_arg_pages:sh-2.6.38`) on walk-cache hardware (`hw:x86`); the seed:
    // "sh do[es] indeed suffer". The quicklist hands the unflushed table to the segment while walk caches
    // point at it.
    { arch: 'sh-2.6.38', hw: 'x86', expect: 'caught' },
    { arch: 'sh-2.6.38', hw: 'arm64', expect: 'caught' },
    // Hypothetical: `shift_arg_pages:ia64-2.6.38`'s VHPT purge names the walk cache, so even leaf-only
    // hardware is clean.
    { arch: 'ia64-2.6.38', hw: 'x86', expect: 'clean' },
    { arch: 'ia64-2.6.38', hw: 'arm64', expect: 'clean' },
    // `shift_arg_pages:arm-2.6.38`: no vma was seen, so tlb_flush flushes the whole mm before the batch (with
    // the table) is freed.
    { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'arm-2.6.38', hw: 'arm64', expect: 'clean' },
    // `shift_arg_pages:generic-2011-series`: the table free sets need_flush and no end_vma clears it: a
    // whole-mm flush before the free.
    { arch: 'generic-2011-series', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'generic-2011-series', hw: 'x86', expect: 'clean' },
    // `shift_arg_pages:generic-range`: the table's whole span is flushed before the free; a leaf invalidate
    // drops walk-cache entries here...
    { arch: 'generic-range', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'generic-range', hw: 'x86', expect: 'clean' },
    // ...but not on leaf-only hardware (`hw:arm64`), where the entries filled before the move survive.
    { arch: 'generic-range', hw: 'arm64', expect: 'caught' },
    // `shift_arg_pages:linux-6`: freed_tables: a flush naming the walk cache (and a sync IPI on broadcast
    // hardware) before the free.
    { arch: 'linux-6', hw: 'armv7-mp', expect: 'clean' },
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
  ],
});
