import { Which } from '../../machine/constants.js';
import type { Provenance } from '../../machine/provenance.js';
import type { GatherOps } from './gather-ops.js';
import type { MoveFlush } from '../memory.js';
import type { Vma } from '../mm.js';
import { Step } from '../ops.js';
import { forceFlush } from './common.js';
import type { LazyTlbRules } from '../lazy-tlb.js';
import type { OptionsOf, PolicyFactory, PolicyOptionSpec, TlbPolicy } from './types.js';

/**
 * linux-6 models today's generic code: include/asm-generic/tlb.h and
 * mm/mmu_gather.c (read in torvalds/linux @06d074298583, a 6.10-era
 * mmu_gather.c) with MMU_GATHER_TABLE_FREE / MMU_GATHER_RCU_TABLE_FREE and
 * the default range-based tlb_flush(), and mm/gup.c's gup_fast. Deliberate
 * deviations (in full in `provenance` below): a synchronising IPI instead of
 * an RCU grace period before tables are freed, sent to the mm's CPUs and only
 * on broadcast hardware; the table flush always invalidates; no huge pages,
 * delayed rmap or page-size tracking.
 *
 *   tlb_gather_mmu        __tlb_reset_range; inc_tlb_flush_pending(mm)
 *   tlb_start_vma         (if !fullmm) vma_exec / vma_huge = the vma's flags
 *   tlb_remove_tlb_entry  __tlb_adjust_range(addr, PAGE_SIZE); cleared_ptes = 1
 *   tlb_remove_page       batched; full → tlb_flush_mmu
 *   pte_free_tlb          __tlb_adjust_range(addr, PAGE_SIZE) (one page: the
 *                         "legacy" rule that a page flush drops the paging-
 *                         structure caches behind it); freed_tables = 1;
 *                         cleared_pmds = 1; tlb_remove_table (table batch)
 *   pmd_free_tlb          the same with cleared_puds
 *   tlb_end_vma           (if !fullmm) tlb_flush_mmu_tlbonly
 *   tlb_flush_mmu_tlbonly if no freed_tables / cleared_* bit: nothing; else
 *                         tlb_flush: fullmm → flush_tlb_mm, else
 *                         flush_tlb_range(start, end) whose `which` has WALK
 *                         when freed_tables (arm64's !last_level TLBI, x86's
 *                         freed_tables argument) and ITLB when vma_exec;
 *                         then __tlb_reset_range (vma_* kept)
 *   tlb_flush_mmu         tlbonly, then tlb_table_flush (tlb_table_invalidate,
 *                         then tlb_remove_table_free: call_rcu), then pages
 *   tlb_finish_mmu        if mm_tlb_flush_nested (tlb_flush_pending > 1):
 *                         fullmm = 1, reset range, freed_tables = 1; then
 *                         tlb_flush_mmu; dec_tlb_flush_pending
 *   gup_fast              interrupts off; gup_fast_pte_range reads the PTE,
 *                         takes a speculative reference (try_grab_folio_fast,
 *                         fails on a folio whose count is zero), then re-reads
 *                         the pmd and the PTE and backs off (gup_put_folio) if
 *                         either changed.
 *
 * The RCU deferral is modelled as the kernel's fallback does it
 * (tlb_remove_table_one → tlb_remove_table_sync_one): with hardware-broadcast
 * flushes nobody was interrupted, so a gup_fast walker with interrupts off
 * may still be reading a table; the tables are freed only after the flush AND
 * a synchronising IPI to the mm's CPUs has been acknowledged, which cannot
 * happen inside such a walk — the same guarantee an RCU-sched grace period
 * gives. The kernel's smp_call_function reaches every online CPU; the mm's
 * cpumask (bits are never cleared in the machine, lazy CPUs included) is every
 * CPU that can walk this mm's tables. With IPI flushes the flush itself waited
 * for those CPUs, so the tables are freed right after it.
 *
 * Why the order is right: unhook; invalidate TLB and walk caches of the range
 * (WALK when tables went); wait out lockless walkers; free tables, then pages.
 *
 * Option nested (what tlb_finish_mmu does when mm_tlb_flush_nested: another
 * gather on the mm is in flight, e.g. a madvise(DONTNEED) beside a munmap,
 * which since 4.20 (dd2283f2605e) zaps under the read lock too):
 *  - 'full' (5.2+, 7a30df49f63a "mm: mmu_gather: remove __tlb_reset_range()
 *    for force flush"): fullmm = 1; __tlb_reset_range; freed_tables = 1;
 *  - 'range-drops-freed-tables' (4.20-5.1, a6d60245d6d9): __tlb_reset_range
 *    then __tlb_adjust_range(start, end): a leaf-only flush of the caller's
 *    range that drops freed_tables, so walk caches survive a table free;
 *  - 'adjust-range' (4.13-4.19, 99baac21e458 "mm: fix MADV_[FREE|DONTNEED]
 *    TLB flush miss problem"): __tlb_adjust_range(start, end), the bits
 *    kept. (Those kernels had no freed_tables bit; arm64 then invalidated
 *    walk caches in __pte_free_tlb itself. Modelled on today's gather.)
 *
 * Option tableFallback (what tlb_remove_table does when the page for its
 * batch cannot be allocated, GFP_NOWAIT under memory pressure; the scenario
 * knob tableBatchAlloc: 'fails' makes it so):
 *  - 'invalidate' (4.19+, d86564a2f085 "mm/tlb, x86/mm: Support invalidating
 *    TLB caches for RCU_TABLE_FREE"): tlb_table_invalidate (the pending
 *    flush, walk caches included since freed_tables is set), then
 *    tlb_remove_table_one: an IPI to every CPU (smp_call_function) and the
 *    table freed at once;
 *  - 'no-invalidate' (the code before it, which x86 with RCU_TABLE_FREE ran
 *    in 4.14-4.18): the IPI and the free, nothing invalidated: the IPI waits
 *    out software walkers with interrupts off, not the hardware walkers'
 *    cached pointers to the table.
 *
 * Option tableFree: 'rcu' (the default: MMU_GATHER_RCU_TABLE_FREE, which
 * every broadcast-invalidation architecture selects, and x86 too since 6.15,
 * a37259732a7d "x86/mm: Make MMU_GATHER_RCU_TABLE_FREE unconditional", which
 * came with INVLPGB) or 'page-batch' (x86 native before it: ___pte_free_tlb
 * → tlb_remove_page, the table freed with the pages after the flush; safe
 * only while the flush is an IPI that an interrupts-off gup_fast holds up).
 *
 * Option mremapFlush (mm/mremap.c move_ptes / move_page_tables; kernel/
 * memory.ts MoveFlush says what each does, and why the lock matters). The
 * pages mremap moves are held by no reference of its own: once a PTE table
 * lock is dropped, a truncate can zap the new PTE, flush the new address
 * and free the page, while other CPUs still translate the old address.
 *  - 'under-ptl' (4.19+, eb66ae030829 "mremap: properly flush TLB before
 *    releasing the page", CVE-2018-18281): move_ptes sets force_flush for
 *    every present PTE it moves and calls flush_tlb_range on the old extent
 *    before dropping the new and the old PTE locks;
 *  - 'dirty-under-ptl' (4.9-4.18, 5d1904204c99 "mremap: fix race between
 *    mremap() and page cleanning", with the pte_dirty check after
 *    ptep_get_and_clear as fixed before 4.9 shipped): force_flush only for
 *    a dirty PTE (the race it fixed was with page_mkclean losing a write),
 *    flushed after the new lock is dropped, under the old one; otherwise
 *    *need_flush, and move_page_tables flushes the whole range at the end;
 *  - 'after-unlock' (3.2-4.8, "thp: mremap support and TLB optimization"):
 *    no flush in move_ptes; need_flush, one flush_tlb_range of the whole
 *    old range after the last extent.
 * move_ptes takes the file's i_mmap_rwsem only when need_rmap_locks, which
 * smpsim's copy_vma (no merging) never makes true (kernel/mremap.ts).
 */
class Linux6 implements TlbPolicy {
  readonly name = 'linux-6';
  /** get_user_pages_fast: mm/gup.c gup_fast_pte_range: try_grab_folio_fast (fails on a zero count), then pmd and PTE re-read, gup_put_folio and back off if either changed. */
  readonly gupFast = 'speculative';
  /** mm/mremap.c move_ptes: the old extent flushed under both PTE locks (eb66ae030829), or an older era's rule (option mremapFlush). */
  readonly moveFlush: MoveFlush;
  /** mm/mmap.c do_vmi_align_munmap: mmap_write_downgrade after detaching the vmas (since 4.20, dd2283f2605e). */
  readonly munmapDowngrade = true;
  readonly lazyTlb: LazyTlbRules;
  readonly collapseSync: 'sync-ipi' | 'none';
  readonly rcuTableFree: boolean;
  private readonly nested: Opts['nested'];
  private readonly fallback: Opts['tableFallback'];
  private readonly tableFree: Opts['tableFree'];
  private readonly lazy: Opts['lazyTlb'];
  constructor(o: Required<Opts>) {
    this.nested = o.nested;
    this.fallback = o.tableFallback;
    this.tableFree = o.tableFree;
    this.lazy = o.lazyTlb;
    this.collapseSync = o.collapseSync;
    this.rcuTableFree = o.tableFree === 'rcu';
    this.moveFlush = o.mremapFlush;
    const lazy = o.lazyTlb;
    this.lazyTlb = {
      // 4.20+: lazy CPUs are skipped unless tables were freed; the merge-window code skipped them always.
      skips: (freedTables) => (lazy === 'freed-tables' ? !freedTables : lazy === 'merge-window-2018'),
      rangeFreedTables: o.flushTlbRange === 'freed-tables',
    };
  }

  tlbStartVma(tlb: GatherOps, vma: Vma): void {
    if (tlb.fullmm) return;
    tlb.vmaExec = vma.exec;
    tlb.vmaHuge = vma.huge;
  }
  tlbRemoveTlbEntry(tlb: GatherOps, vpn: number): void {
    tlb.adjustRange(vpn, vpn + 1);
    tlb.clearedPtes = true;
  }
  tlbRemovePage(tlb: GatherOps, frame: number): void {
    if (tlb.queuePage(frame)) forceFlush(tlb);
  }
  freeTable(tlb: GatherOps, level: 1 | 2, table: number, vpn: number): void {
    tlb.adjustRange(vpn, vpn + 1);
    tlb.freedTables = true;
    if (level === 1) tlb.clearedPmds = true;
    else tlb.clearedPuds = true;
    if (this.tableFree === 'page-batch') {
      // x86 native before a37259732a7d (6.15): ___pte_free_tlb → tlb_remove_page. The table is freed
      // with the pages, after the flush; only the flush IPI waits out an interrupts-off gup_fast.
      if (tlb.queueTableAsPage(level, table)) forceFlush(tlb);
      return;
    }
    if (tlb.tableBatchAllocFails) {
      // tlb_remove_table, no batch page: tlb_table_invalidate (since d86564a2f085), then
      // tlb_remove_table_one: smp_call_function to wait out interrupts-off walkers, and free at once.
      tlb.enterStep(Step.TLB_TABLE_FLUSH);
      if (this.fallback === 'invalidate') this.tlbOnly(tlb);
      // In the 2018 merge window tlb_remove_table_smp_sync ran tlb_flush_remove_tables_local: a lazy CPU left the mm.
      tlb.syncIpi({ leaveLazy: this.lazy === 'merge-window-2018' });
      tlb.freeTableNow(level, table);
      return;
    }
    if (tlb.queueTable(level, table)) this.tableFlush(tlb);
  }
  tlbEndVma(tlb: GatherOps): void {
    if (!tlb.fullmm) this.tlbOnly(tlb);
  }
  tlbFlushMmu(tlb: GatherOps): void {
    this.tlbOnly(tlb);
    if (this.lazy === 'merge-window-2018') {
      // tlb_table_flush → tlb_flush_remove_tables(mm), before any table or page is freed: meant to send
      // lazy CPUs out of the mm, but mm_fill_lazy_tlb_cpu_mask picks the CPUs with !is_lazy (as the
      // revert's diff shows it), whose handler (tlb_flush_remove_tables_local) acts only on a lazy CPU.
      tlb.syncIpi({ leaveLazy: true, select: 'not-lazy' });
    }
    this.tableFlush(tlb);
    tlb.freePageBatch();
  }
  tlbFinishMmu(tlb: GatherOps, start: number, end: number): void {
    if (tlb.mm.tlbFlushPending.read() > 1) {
      if (this.nested === 'full') {
        tlb.fullmm = true;
        tlb.resetRange();
        tlb.freedTables = true;
      } else if (this.nested === 'adjust-range') {
        tlb.adjustRange(start, end);
        tlb.clearedPtes = true;
      } else {
        tlb.resetRange();
        tlb.adjustRange(start, end);
        // 4.20's tlbonly tested tlb->end, not the level bits: the flush happens, leaf-only.
        tlb.clearedPtes = true;
      }
    }
    this.tlbFlushMmu(tlb);
  }

  private tlbOnly(tlb: GatherOps): void {
    if (!(tlb.freedTables || tlb.clearedPtes || tlb.clearedPmds || tlb.clearedPuds)) return;
    if (tlb.fullmm) tlb.flushMm();
    else tlb.flushRange(tlb.start, tlb.end, Which.DTLB | (tlb.vmaExec ? Which.ITLB : 0) | (tlb.freedTables ? Which.WALK : 0));
    tlb.resetRange();
  }

  /** tlb_table_flush: tlb_table_invalidate, then the RCU-deferred free. */
  private tableFlush(tlb: GatherOps): void {
    if (!tlb.tables.length) return;
    tlb.enterStep(Step.TLB_TABLE_FLUSH);
    this.tlbOnly(tlb);
    if (tlb.broadcastFlush) tlb.syncIpi();
    tlb.freeTableBatch();
  }
}

/** The options this policy takes. */
export const options = [
  {
    key: 'nested',
    values: ['full', 'range-drops-freed-tables', 'adjust-range'],
    summary: "what a nested gather's finish does: 'full' (5.2+, 7a30df49f63a) a fullmm flush with freed_tables; 'range-drops-freed-tables' (4.20-5.1, a6d60245d6d9) a leaf-only flush of the caller's range; 'adjust-range' (4.13-4.19, 99baac21e458) the caller's range added, the level bits kept",
  },
  {
    key: 'tableFallback',
    values: ['invalidate', 'no-invalidate'],
    summary:
      "when tlb_remove_table cannot allocate its batch page (scenario tableBatchAlloc: 'fails'): 'invalidate' (4.19+, d86564a2f085) invalidates TLB and walk caches before tlb_remove_table_one's IPI and free; 'no-invalidate' (before it) only IPIs, then frees",
  },
  {
    key: 'tableFree',
    values: ['rcu', 'page-batch'],
    summary:
      "how page tables are freed: 'rcu' (MMU_GATHER_RCU_TABLE_FREE: tlb_remove_table, after a grace period; every architecture with broadcast invalidation, and x86 since 6.15, a37259732a7d) or 'page-batch' (x86 native before it: tlb_remove_page, freed with the pages after the flush, relying on the flush IPI)",
  },
  {
    key: 'lazyTlb',
    values: ['freed-tables', 'ipi-lazy', 'merge-window-2018'],
    summary:
      "which flush IPIs skip CPUs in lazy TLB mode (x86): 'freed-tables' (4.20+, 145f573b89a6, 016c4d92cd16) all but those that free page tables; 'ipi-lazy' (up to 4.19) none, a lazy CPU leaves the mm on the first; 'merge-window-2018' (ac0315896970 with 2ff6ddf19c0e/64482aafe55f, reverted before 4.19-rc1) all, and the table-free IPI meant for lazy CPUs went to the others",
  },
  {
    key: 'flushTlbRange',
    values: ['freed-tables', 'leaf'],
    summary:
      "what x86's flush_tlb_range (move_ptes, khugepaged's pmdp_collapse_flush) passes as freed_tables: 'freed-tables' (3ef938c35035, 2025) true, so lazy CPUs get it; 'leaf' (4.20 to 6.13) false, so a PTE table khugepaged frees is not flushed from lazy CPUs",
  },
  {
    key: 'collapseSync',
    values: ['sync-ipi', 'none'],
    summary:
      "how khugepaged waits out gup_fast before it frees the PTE table it collapsed: 'sync-ipi' (2ba99c5e0881, 6.2 and stable) tlb_remove_table_sync_one after pmdp_collapse_flush; 'none' (before it) the flush only, which interrupts nobody on broadcast hardware",
  },
  {
    key: 'mremapFlush',
    values: ['under-ptl', 'dirty-under-ptl', 'after-unlock'],
    summary:
      "when move_page_tables (mremap, exec's stack move) invalidates the old addresses: 'under-ptl' (4.19+, eb66ae030829, CVE-2018-18281) each extent that moved a present PTE, before its PTE locks are dropped; 'dirty-under-ptl' (4.9-4.18, 5d1904204c99) only an extent that moved a dirty PTE, under the old table's lock, the rest once after the last extent; 'after-unlock' (3.2-4.8) the whole range once after the last extent, every PTE lock dropped",
  },
] as const satisfies readonly PolicyOptionSpec[];

type Opts = OptionsOf<typeof options>;

export const linux6: PolicyFactory<Opts> = (o = {}) =>
  new Linux6({
    nested: o.nested ?? 'full',
    tableFallback: o.tableFallback ?? 'invalidate',
    tableFree: o.tableFree ?? 'rcu',
    lazyTlb: o.lazyTlb ?? 'freed-tables',
    flushTlbRange: o.flushTlbRange ?? 'freed-tables',
    collapseSync: o.collapseSync ?? 'sync-ipi',
    mremapFlush: o.mremapFlush ?? 'under-ptl',
  });

export const provenance: Provenance = {
  version: '6.x (mm/mmu_gather.c as of 6.10; gup_fast as of 6.10-6.17)',
  tree: 'torvalds/linux @06d074298583 (mm/mmu_gather.c); mm/gup.c as in the linux-mm patches against 6.10-6.17',
  files: [
    'mm/mmu_gather.c: tlb_remove_table_sync_one, tlb_table_invalidate, tlb_remove_table_one, tlb_table_flush, tlb_remove_table, tlb_flush_mmu, __tlb_gather_mmu, tlb_finish_mmu',
    'include/asm-generic/tlb.h: __tlb_adjust_range, __tlb_reset_range, tlb_flush, tlb_flush_mmu_tlbonly, tlb_start_vma, tlb_end_vma, pte_free_tlb, pmd_free_tlb',
    'mm/gup.c: gup_fast_pte_range (~l. 2840-2930 in 6.10-6.17: try_grab_folio_fast, then pmd and PTE recheck, gup_put_folio on change), gup_fast (local_irq_save)',
    'arch/x86/mm/tlb.c (5.x): native_flush_tlb_others / tlb_is_not_lazy (lazy CPUs skipped unless freed_tables), flush_tlb_func (a lazy CPU leaves the mm), switch_mm_irqs_off (tlb_gen catch-up); the 2018 merge-window code as the revert removed it (linux-mm, 22 Aug 2018)',
    'arch/x86/include/asm/tlbflush.h flush_tlb_range: freed_tables true since 3ef938c35035 (2025)',
    'mm/khugepaged.c collapse_and_free_pmd / collapse_pte_mapped_thp, retract_page_tables; mm/mmu_gather.c tlb_remove_table_sync_one',
    'mm/mremap.c: move_ptes (force_flush for a present PTE, flush_tlb_range before the PTE locks are dropped), move_page_tables, take_rmap_locks, move_vma, mremap_to [torvalds/linux @000c0691ec6a]; copy_vma (need_rmap_locks)',
    'mm/truncate.c: truncate_setsize, truncate_pagecache, truncate_inode_pages_range; mm/memory.c: unmap_mapping_pages (i_mmap_lock_read in 6.x, write up to 5.x), unmap_mapping_range_tree, zap_page_range_single; mm/filemap.c: filemap_fault (lock, then page->mapping and i_size rechecks)',
  ],
  commit: 'mm/gup.c: "mm: gup: stop abusing try_grab_folio" (6.10, try_grab_folio_fast); nested flush: 7a30df49f63a "mm: mmu_gather: remove __tlb_reset_range() for force flush" (5.2; option nested: a6d60245d6d9 for 4.20-5.1, 99baac21e458 for 4.13-4.19); munmap under the read lock: dd2283f2605e (4.20), mm/vma.c vms_complete_munmap_vmas (6.x); table batch fallback: d86564a2f085 (4.19; option tableFallback=no-invalidate for the code before it); x86 page tables through RCU: a37259732a7d (6.15; option tableFree=page-batch for x86 native before it); lazy TLB: 145f573b89a6 and 016c4d92cd16 (4.20; option lazyTlb=ipi-lazy for the code before, merge-window-2018 for ac0315896970/2ff6ddf19c0e/64482aafe55f, reverted before 4.19-rc1), 3ef938c35035 (2025; option flushTlbRange=leaf before it); khugepaged: 2ba99c5e0881 (6.2; option collapseSync=none before it); mremap flush under the PTE locks: eb66ae030829 (4.19, CVE-2018-18281; option mremapFlush=dirty-under-ptl for 5d1904204c99, 4.9-4.18, after-unlock for 3.2-4.8)',
  deviations: [
    'Tables are freed after a synchronising IPI (the fallback tlb_remove_table_one uses) rather than after an RCU-sched grace period; both wait until no CPU is inside an interrupts-off walk.',
    'The sync IPI is sent only on broadcast-flush hardware and to the mm cpumask; the kernel selects RCU table freeing per architecture and its fallback IPIs every online CPU.',
    'tlb_table_invalidate always flushes before the table free; the kernel does so only when tlb_needs_table_invalidate() (true for every architecture with hardware walkers).',
    'No huge pages, no delayed rmap, no page_size tracking.',
    "tlb_remove_table_one's IPI goes to the mm's CPUs (smp_call_function reaches every online CPU); the fallback's IPI is sent on every flavour, as the kernel does.",
    "Lazy TLB: one 'missed a flush' state per CPU instead of tlb_gen generations; a CPU that leaves the mm drops its entries at once (the kernel, with PCIDs, at its next switch). The lazy rules are x86's and matter only for flushes sent by IPI.",
    'khugepaged: no huge pages (the huge page is fresh base frames behind a fresh PTE table); the file/shmem order (copy, then pmdp_collapse_flush, sync, pte_free) for anonymous memory too, whose table the kernel deposits instead of freeing.',
    'munmap downgrades mmap_lock whenever it detached a vma; 5.10+ skips the downgrade next to a VM_GROWSDOWN/VM_GROWSUP vma. MADV_DONTNEED takes mmap_lock for read; the newest kernels take only the per-VMA lock (not modelled).',
    'move_page_tables moves PTE by PTE (no move_normal_pmd/pud, 4.20+), large folios one page at a time; copy_vma never merges, so need_rmap_locks is false; mremap moves old_len == new_len only.',
    'truncate takes i_mmap_rwsem for write (6.x: read); no inode lock, partial pages, writeback or shadow entries; truncate_inode_pages drops one page at a time (the kernel batches).',
    "The 'after-unlock' era's move_ptes took i_mmap_mutex for every file vma in 3.2-3.6 (need_rmap_locks came in 3.7); it is dropped before the late flush, so the race is the same.",
  ],
};

/** The hardware flavours this kernel ran on: today's generic code runs on x86, arm64 and 32-bit ARMv7 MP. */
export const hardware: readonly string[] = ['x86', 'arm64', 'armv7-mp', 'x86-invlpgb'];
