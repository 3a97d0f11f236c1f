import type { GupFastMode } from '../../machine/config.js';
import type { GatherOps } from './gather-ops.js';
import type { Vma } from '../mm.js';
import type { LazyTlbRules } from '../lazy-tlb.js';
import type { MoveFlush } from '../memory.js';
import type { QuicklistSpec } from '../quicklist.js';

/**
 * An architecture's mmu_gather: the hooks asm/tlb.h defines, each called with
 * the gather's state and primitives (GatherOps) and nothing else. The generic
 * gather calls exactly one hook per kernel call; the policy decides when to
 * invalidate, what range, and when frames go back.
 *
 * As include/asm-generic/tlb.h does for an architecture, the generic code
 * supplies a default for every hook but tlbFlushMmu (what "invalidate" means
 * is always the architecture's), so a new policy writes only what differs:
 *
 *   gather             resetRange()                      (__tlb_reset_range)
 *   tlbStartVma        nothing
 *   tlbRemoveTlbEntry  adjustRange(vpn, vpn + 1)
 *   tlbRemovePage      queuePage; a full batch → tlbFlushMmu
 *   freeTable          adjustRange one page; queueTableAsPage; full → tlbFlushMmu
 *   tlbEndVma          nothing
 *   tlbFinishMmu       tlbFlushMmu
 *
 * Everything a policy does to the machine goes through the primitives, so
 * the trace is complete.
 */
export interface TlbPolicy {
  readonly name: string;
  /**
   * How this kernel's lockless get_user_pages_fast takes page references
   * (the machine runs it on workload CPUs), or null when this kernel had none
   * on its architectures (gup went through mmap_sem and the page-table lock).
   */
  readonly gupFast: GupFastMode | null;
  /**
   * The architecture's page-table cache (pgalloc.h quicklists), if it has
   * one: the Kernel then serves this CPU's table allocations from it, and the
   * policy parks freed tables there (GatherOps.quicklistFree).
   */
  readonly quicklist?: QuicklistSpec;
  /** How the era's move_page_tables (mm/mremap.c) flushes the old addresses (memory.ts MoveFlush). */
  readonly moveFlush: MoveFlush;
  /**
   * Whether this kernel's munmap downgrades mmap_lock to read once the vmas
   * are detached, and zaps and frees the page tables under the read lock
   * (4.20+, dd2283f2605e "mm: mmap: zap pages with read mmap_sem in
   * munmap"), so that a munmap's gather can run beside a madvise's on the
   * same mm. Default false: the write lock is held throughout.
   */
  readonly munmapDowngrade?: boolean;
  /**
   * x86's lazy TLB rules (kernel/lazy-tlb.ts), for a kernel that has them:
   * which flush IPIs skip CPUs in lazy TLB mode, and that a lazy CPU a flush
   * IPI reaches leaves the mm. None: flushes go to every CPU of the mm's
   * cpumask and a lazy CPU flushes like any other.
   */
  readonly lazyTlb?: LazyTlbRules;
  /**
   * How khugepaged's collapse waits out lockless page-table walkers after
   * pmdp_collapse_flush and before the PTE table goes (kernel/collapse.ts):
   * 'sync-ipi' (2ba99c5e0881: tlb_remove_table_sync_one) or 'none'. A
   * kernel without the model's khugepaged leaves it undefined.
   */
  readonly collapseSync?: 'sync-ipi' | 'none';
  /**
   * Whether page tables are freed through RCU (MMU_GATHER_RCU_TABLE_FREE);
   * only then is tlb_remove_table_sync_one an IPI (else it does nothing).
   */
  readonly rcuTableFree?: boolean;
  /** tlb_gather_mmu: initialise the arch state (tlb.fullmm is already set). */
  gather?(tlb: GatherOps): void;
  tlbStartVma?(tlb: GatherOps, vma: Vma): void;
  /** tlb_remove_tlb_entry: the PTE of vpn was cleared. */
  tlbRemoveTlbEntry?(tlb: GatherOps, vpn: number): void;
  /** tlb_remove_page: the data frame the cleared PTE pointed to. */
  tlbRemovePage?(tlb: GatherOps, frame: number): void;
  /**
   * pte_free_tlb (level 1) / pmd_free_tlb (level 2): the table frame was
   * unhooked from its parent entry; it maps [vpn, spanEnd).
   */
  freeTable?(tlb: GatherOps, level: 1 | 2, table: number, vpn: number, spanEnd: number): void;
  tlbEndVma?(tlb: GatherOps, vma: Vma): void;
  /** tlb_flush_mmu: invalidate what is pending, then free the batches. */
  tlbFlushMmu(tlb: GatherOps): void;
  /**
   * tlb_finish_mmu. [start, end) is what the caller passed in 2.6-era kernels
   * (tlb_finish_mmu(tlb, start, end)); policies that predate or postdate that
   * argument ignore it.
   */
  tlbFinishMmu?(tlb: GatherOps, start: number, end: number): void;
}

/**
 * One option of a policy, declared in the policy's own file: its key, the
 * values it takes (the first is the default) and what it selects. The CLI's
 * `--arch NAME:KEY=VALUE`, the scenario schema's archOptions, `smpsim list`
 * and the PolicyOptions type all derive from these declarations.
 */
export interface PolicyOptionSpec<K extends string = string, V extends string | boolean = string | boolean> {
  readonly key: K;
  readonly values: readonly V[];
  readonly summary: string;
}

/** The options object a policy with option specs `S` accepts. */
export type OptionsOf<S extends readonly PolicyOptionSpec[]> = { [P in S[number] as P['key']]?: P['values'][number] };

/** Builds a fresh policy object from its options. */
export type PolicyFactory<O extends object = Record<string, unknown>> = (opts?: O) => TlbPolicy;
