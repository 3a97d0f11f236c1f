import { FlushKind, Which } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { flushBroadcasts } from '../machine/flush-initiator.js';
import { skipLazy } from '../machine/lazy.js';
import type { FlushRequest } from '../machine/tlb.js';
import type { FlushEvent } from './gather-trace.js';

/**
 * x86's lazy TLB handling (arch/x86/mm/tlb.c), for the policies that model
 * it. A CPU running a kernel thread keeps the last user mm loaded (lazy TLB
 * mode, machine/lazy.ts). Every era makes such a CPU leave the mm when a
 * flush IPI reaches it (flush_tlb_func: switch_mm_irqs_off(NULL, &init_mm));
 * the eras differ in which flushes reach it at all:
 *
 *  - up to 4.18, and 4.19 as released: every flush IPI goes to every CPU of
 *    mm_cpumask, lazy ones included (skips() is always false);
 *  - 4.20+ (145f573b89a6 "x86/mm/tlb: Make lazy TLB mode lazier", with
 *    016c4d92cd16 "x86/mm/tlb: Add freed_tables argument to
 *    flush_tlb_mm_range"): native_flush_tlb_others IPIs lazy CPUs only when
 *    info->freed_tables, because "the CPU itself can do speculative loads
 *    from userspace memory addresses" through the paging-structure caches;
 *    every other flush leaves them to catch up by tlb_gen when they switch
 *    back;
 *  - the 4.19 merge window (ac0315896970 "x86/mm/tlb: Make lazy TLB mode
 *    lazier", 2ff6ddf19c0e "Leave lazy TLB mode at page table free time",
 *    64482aafe55f "Only send page table free TLB flush to lazy TLB CPUs",
 *    with 95b0e6357d3e and 61d0beb5796a; all reverted by "x86/mm/tlb:
 *    Revert the recent lazy TLB patches" in the August 2018 tlb-fixes merge,
 *    before 4.19-rc1): every flush skips lazy CPUs, and page-table frees
 *    were to reach them through a separate IPI (tlb_flush_remove_tables);
 *    policies/linux-6.ts says what that IPI did.
 *
 * Why a table free must reach a lazy CPU while a leaf flush need not: a lazy
 * CPU makes no user access before it switches back, and the switch flushes
 * whatever a skipped flush removed; but its hardware keeps walking the mm
 * speculatively meanwhile, through walk-cache pointers to tables, and a
 * table freed and reused under such a pointer is read as page-table entries.
 *
 * The choice only concerns flushes sent by IPI: a hardware-broadcast
 * invalidation reaches every CPU, lazy or not.
 */
export interface LazyTlbRules {
  /** Whether a flush IPI may skip CPUs in lazy TLB mode; `freedTables`: the flush's freed_tables. */
  skips(freedTables: boolean): boolean;
  /** What flush_tlb_range (move_ptes, pmdp_collapse_flush) passes as freed_tables (3ef938c35035, 2025: true; before: false). */
  readonly rangeFreedTables: boolean;
}

/**
 * The CPUs a flush `r` of the mm goes to, for a kernel whose lazy TLB rules
 * are `lazy` (none: every CPU of the mm's cpumask). Marks `r` so that a lazy
 * CPU it reaches leaves the mm, and the lazy CPUs it skips as having missed
 * it (they flush when they switch back).
 */
export function flushTargets(cpu: Cpu, lazy: LazyTlbRules | undefined, r: FlushRequest, freedTables: boolean): number {
  const mask = cpu.pt.cpumask(r.asid);
  if (!lazy) return mask;
  r.which |= Which.LAZY_LEAVE;
  if (flushBroadcasts(cpu.L.cfg, r.kind) || !lazy.skips(freedTables)) return mask;
  return skipLazy(cpu.i32, cpu.L, mask);
}

/**
 * flush_tlb_range(vma, start, end) outside a gather (move_ptes,
 * pmdp_collapse_flush): the range on the mm's CPUs, lazy ones skipped as
 * the rules say for flush_tlb_range (its freed_tables: rangeFreedTables),
 * recorded in `flushes` as issued by `by`.
 */
export function flushTlbRange(cpu: Cpu, lazy: LazyTlbRules | undefined, asid: number, start: number, end: number, which: number, by: string, flushes: FlushEvent[]): void {
  const r = { kind: FlushKind.RANGE, asid, start, end, which };
  cpu.flush(r, flushTargets(cpu, lazy, r, lazy?.rangeFreedTables ?? false));
  flushes.push({ t: 'flush', seq: 0, cls: end - start === 1 ? 'page' : 'range', kind: FlushKind.RANGE, asid, start, end, which, by });
}

/** Whether the flush `r` counts as freeing tables for the lazy rules: a walk-cache flush, or a whole-mm one (x86's flush_tlb_mm passes freed_tables = true). */
export function freesTables(r: FlushRequest): boolean {
  return (r.which & Which.WALK) !== 0 || r.kind !== FlushKind.RANGE;
}
