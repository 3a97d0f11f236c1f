import { PTE_FRAME_MASK, Pte } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { ptLockWord, ptlWord, spinLock, spinUnlock } from '../machine/locks.js';
import type { TableAlloc } from '../machine/pagetable.js';
import { type FileCache, pageRemoveRmap } from './file-cache.js';
import type { FlushEvent } from './gather-trace.js';
import { type LazyTlbRules, flushTlbRange } from './lazy-tlb.js';
import type { Mm, Vma } from './mm.js';
import type { MmuGather } from './mmu-gather.js';
import { Step, kernelOp } from './ops.js';
import { leafWhich } from './policies/common.js';

/**
 * The page-table side of mm/memory.c and mm/mremap.c that drives a gather:
 * zapping PTEs (unmap_vmas), freeing page-table pages (free_pgtables /
 * free_pgd_range) and moving PTEs (move_page_tables, flushing as the era's
 * mm/mremap.c does: MoveFlush).
 *
 * Ordering kept from the kernel: an entry is cleared (ptep_get_and_clear,
 * pmd_clear, pud_clear) BEFORE the frame it pointed to is handed to the
 * gather, so whatever the gather does afterwards, no new walk can reach the
 * frame through the page tables; only cached translations can.
 *
 * Geometry: a PTE table maps W pages (Linux's PMD_SIZE), a PMD table W*W
 * (PUD_SIZE); the pgd is never freed here. A ceiling of 0 means "no limit"
 * (the top of the address space), as in the kernel.
 */

/**
 * unmap_page_range for one vma, bracketed by tlb_start_vma/tlb_end_vma:
 * clears every present PTE of [start, end) ∩ vma, then remove_tlb_entry and
 * (unless VM_PFNMAP) remove_page. Returns the number of PTEs cleared.
 */
export function unmapPageRange(tlb: MmuGather, vma: Vma, start: number, end: number): number {
  const s = Math.max(start, vma.start);
  const e = Math.min(end, vma.end);
  if (s >= e) return 0;
  tlb.tlbStartVma(vma);
  const n = zapRange(tlb, vma, s, e);
  tlb.tlbEndVma(vma);
  return n;
}

/** unmap_vmas: unmapPageRange for each vma over [start, end). */
export function unmapVmas(tlb: MmuGather, vmas: readonly Vma[], start: number, end: number): number {
  let n = 0;
  for (const v of vmas) n += unmapPageRange(tlb, v, start, end);
  return n;
}

/** zap_pte_range over [start, end) of one vma (tables missing are skipped). */
function zapRange(tlb: MmuGather, vma: Vma, start: number, end: number): number {
  const cpu = tlb.cpu;
  const pt = cpu.pt;
  const W = cpu.L.W;
  const asid = tlb.mm.asid;
  const op = kernelOp(tlb.syscall, Step.UNMAP_VMAS);
  let n = 0;
  for (let vpn = start; vpn < end; ) {
    const tableEnd = Math.min(end, (vpn | (W - 1)) + 1);
    const t = pt.table(asid, vpn, 1);
    if (t < 0) {
      vpn = tableEnd;
      continue;
    }
    // pte_offset_map_lock: the table's PTL while its PTEs are cleared, so a
    // second zapper of the same table (a concurrent madvise) finds each PTE
    // either present (and clears it itself) or already cleared by the first.
    // Deviation: a forced tlb_flush_mmu (full batch) runs here, under the
    // PTL, flush and frees alike. 3.0 breaks out, unlocks, then flushes; 6.x
    // flushes the TLB (tlb_flush_mmu_tlbonly) before pte_unmap_unlock and
    // frees after it. A CPU waiting for the PTL keeps taking IPIs, so
    // flushing under it cannot deadlock.
    const ptl = ptlWord(cpu.L, t);
    spinLock(cpu, ptl);
    try {
      for (; vpn < tableEnd; vpn++) {
        if (!(pt.entry(t, vpn & (W - 1)) & Pte.PRESENT)) continue;
        cpu.setKernelOp(op, vpn);
        const old = pt.clearEntry(t, vpn & (W - 1));
        if (!(old & Pte.PRESENT)) continue;
        n++;
        tlb.tlbRemoveTlbEntry(vpn);
        if (vma.pfnmap) continue;
        // page_remove_rmap, then the mapping's reference to the gather (dropped after its flush).
        pageRemoveRmap(cpu, old & PTE_FRAME_MASK);
        tlb.tlbRemovePage(old & PTE_FRAME_MASK);
      }
    } finally {
      spinUnlock(cpu, ptl);
    }
  }
  return n;
}

const top = (ceiling: number): number => (ceiling === 0 ? Infinity : ceiling);

/**
 * free_pgd_range(tlb, addr, end, floor, ceiling): unhook and hand to the
 * gather every PTE table wholly inside [floor, ceiling) that maps part of
 * [addr, end), and every PMD table likewise. Only entries still present are
 * touched, so overlapping calls never free a table twice.
 */
export function freePgdRange(tlb: MmuGather, addr: number, end: number, floor: number, ceiling: number): void {
  const cpu = tlb.cpu;
  const W = cpu.L.W;
  const P = W; // span of a PTE table (PMD_SIZE)
  const limit = cpu.L.vpnLimit;
  cpu.setKernelOp(kernelOp(tlb.syscall, Step.FREE_PGTABLES), addr);
  addr -= addr % P;
  if (addr < floor) {
    addr += P;
    if (addr >= limit) return;
  }
  if (ceiling) {
    ceiling -= ceiling % P;
    if (!ceiling) return;
  }
  if (end - 1 > top(ceiling) - 1) end -= P;
  if (addr > end - 1) return;
  const M = W * W; // span of a PMD table (PUD_SIZE)
  const pgd = cpu.pt.pgd(tlb.mm.asid);
  for (let a = addr; a < end; ) {
    const next = Math.min(a - (a % M) + M, end);
    const gi = Math.floor(a / M) % W;
    const ge = cpu.pt.entry(pgd, gi);
    if (ge & Pte.PRESENT) freePmdRange(tlb, pgd, gi, ge & PTE_FRAME_MASK, a, next, floor, ceiling);
    a = next;
  }
}

/** free_pmd_range: the PTE tables of [addr, end), then the PMD table if wholly inside [floor, ceiling). */
function freePmdRange(tlb: MmuGather, pgd: number, gi: number, pmd: number, addr: number, end: number, floor: number, ceiling: number): void {
  const pt = tlb.cpu.pt;
  const W = tlb.cpu.L.W;
  const M = W * W;
  for (let a = addr; a < end; a += W) {
    const pi = Math.floor(a / W) % W;
    const pe = pt.entry(pmd, pi);
    if (!(pe & Pte.PRESENT)) continue;
    // free_pte_range: pmd_clear, then pte_free_tlb.
    pt.clearEntry(pmd, pi);
    tlb.pteFreeTlb(pe & PTE_FRAME_MASK, a);
  }
  const start = addr - (addr % M);
  if (start < floor) return;
  if (ceiling) {
    ceiling -= ceiling % M;
    if (!ceiling) return;
  }
  if (end - 1 > top(ceiling) - 1) return;
  // pud_clear (our pgd entry), then pmd_free_tlb.
  pt.clearEntry(pgd, gi);
  tlb.pmdFreeTlb(pmd, start);
}

/**
 * free_pgtables(tlb, vmas, floor, ceiling): the vmas are the ones being
 * removed (sorted); nearby ones (gap ≤ one PTE table span) are grouped into
 * one free_pgd_range, whose ceiling is the next group's start or `ceiling`.
 */
export function freePgtables(tlb: MmuGather, vmas: readonly Vma[], floor: number, ceiling: number): void {
  const W = tlb.cpu.L.W;
  for (let i = 0; i < vmas.length; ) {
    const addr = vmas[i].start;
    let j = i;
    while (j + 1 < vmas.length && vmas[j + 1].start <= vmas[j].end + W) j++;
    const next = vmas[j + 1];
    freePgdRange(tlb, addr, vmas[j].end, floor, next ? next.start : ceiling);
    i = j + 1;
  }
}

/**
 * How move_page_tables invalidates the old addresses (mm/mremap.c), by era:
 *
 * - 'per-pte' (2.6.x to 3.1): move_ptes clears each moved PTE with
 *   ptep_clear_flush, a flush_tlb_page of the old address, before set_pte_at
 *   at the new one, all under both PTE table locks (and, for a file vma,
 *   i_mmap_mutex / i_mmap_lock); move_page_tables adds no flush.
 * - 'after-unlock' (3.2 to 4.8, "thp: mremap support and TLB
 *   optimization"): move_ptes clears with ptep_get_and_clear and flushes
 *   nothing; move_page_tables flushes the whole old range once, after the
 *   last extent, when every PTE lock has long been dropped.
 * - 'dirty-under-ptl' (4.9 to 4.18, 5d1904204c99 "mremap: fix race
 *   between mremap() and page cleanning", with the dirty check moved after
 *   ptep_get_and_clear before 4.9 was released): an extent that moved a
 *   dirty PTE is flushed in move_ptes, after the new table's lock is dropped
 *   and before the old one's (force_flush); any other extent leaves the
 *   flush to the end of move_page_tables, as 'after-unlock'.
 * - 'under-ptl' (4.19+, eb66ae030829 "mremap: properly flush TLB before
 *   releasing the page", CVE-2018-18281): an extent that moved a present
 *   PTE is flushed in move_ptes before either lock is dropped; nothing after.
 *
 * Why the lock matters: mremap holds no reference to the pages it moves.
 * Once the new table's lock is dropped, a truncate can zap the new PTE,
 * flush the new address only and free the page, and one that visits the
 * old vma first (i_mmap order) finds the old PTE already gone and flushes
 * nothing there: a CPU whose TLB still holds the old address reaches a freed
 * page until mremap's own late flush. Flushing with both locks held makes
 * every such zap wait until the old address is invalidated everywhere.
 */
export type MoveFlush = 'per-pte' | 'after-unlock' | 'dirty-under-ptl' | 'under-ptl';

export interface MoveOptions {
  flush: MoveFlush;
  /** Where new PTE/PMD tables come from (the kernel's quicklist, if any). */
  allocTable?: TableAlloc;
  /** The kernel's lazy TLB rules, if it has them (flush_tlb_range skips lazy CPUs as they say). */
  lazy?: LazyTlbRules;
  /**
   * take_rmap_locks: the file whose i_mmap_rwsem move_ptes holds for write
   * around each extent (3.7+: when need_rmap_locks, the new vma not after
   * the old in i_mmap order; before 3.7: for every file vma), or none.
   */
  rmapLock?: FileCache | null;
}

/**
 * move_page_tables(vma, oldStart, vma, newStart, len): for each extent of
 * the old range inside one old and one new PTE table (move_ptes), move each
 * present PTE (clear at the old address, set_pte_at at the new one; new
 * tables allocated as needed), ascending, flushing as `opts.flush` says.
 * Frames are not freed, nor their mapcounts changed (the page moves, its
 * mapping stays). Returns the PTEs moved and the flushes issued.
 * Throws when out of frames for a table.
 *
 * Kernel points: move_page_tables at each PTE moved (both PTE locks held);
 * move_page_tables_flush once every extent is moved and its locks dropped,
 * before the flush the 3.2-4.18 eras make there.
 */
export function movePageTables(
  cpu: Cpu,
  mm: Mm,
  vma: Vma,
  oldStart: number,
  newStart: number,
  len: number,
  syscall: number,
  opts: MoveOptions = { flush: 'under-ptl' },
): { moved: number; flushes: FlushEvent[] } {
  const W = cpu.L.W;
  const flushes: FlushEvent[] = [];
  const state = { moved: 0, needFlush: false };
  for (let off = 0; off < len; ) {
    const from = oldStart + off;
    const to = newStart + off;
    // extent: up to the end of the old PTE table, of the new one, and of the range.
    const extent = Math.min(W - (from & (W - 1)), W - (to & (W - 1)), len - off);
    movePtes(cpu, mm, vma, from, to, extent, syscall, opts, flushes, state);
    off += extent;
  }
  cpu.setKernelOp(kernelOp(syscall, Step.MOVE_PAGE_TABLES_FLUSH), oldStart);
  // 3.2-4.18: if (need_flush) flush_tlb_range(vma, old_end - len, old_addr), every PTE lock dropped.
  if (state.needFlush) moveFlush(cpu, mm, vma, oldStart, oldStart + len, flushes, opts.lazy);
  return { moved: state.moved, flushes };
}

/** flush_tlb_range(vma, start, end) of old addresses, recorded as move_page_tables' flush. */
function moveFlush(cpu: Cpu, mm: Mm, vma: Vma, start: number, end: number, flushes: FlushEvent[], lazy?: LazyTlbRules): void {
  flushTlbRange(cpu, lazy, mm.asid, start, end, leafWhich(vma.exec), 'move_page_tables', flushes);
}

/** move_ptes over one extent; pushes the flushes it issues, and notes a flush it leaves to move_page_tables. */
function movePtes(
  cpu: Cpu,
  mm: Mm,
  vma: Vma,
  from: number,
  to: number,
  n: number,
  syscall: number,
  opts: MoveOptions,
  flushes: FlushEvent[],
  state: { moved: number; needFlush: boolean },
): void {
  const pt = cpu.pt;
  const W = cpu.L.W;
  const asid = mm.asid;
  const op = kernelOp(syscall, Step.MOVE_PAGE_TABLES);
  const t = pt.table(asid, from, 1);
  if (t < 0) return;
  let any = false;
  for (let i = 0; i < n && !any; i++) any = (pt.entry(t, (from + i) & (W - 1)) & Pte.PRESENT) !== 0;
  if (!any) return;
  // alloc_new_pmd / pte_alloc under the mm's page_table_lock.
  spinLock(cpu, ptLockWord(cpu.L, asid));
  const nt = pt.ensurePteTable(asid, to, opts.allocTable);
  spinUnlock(cpu, ptLockWord(cpu.L, asid));
  if (nt < 0) throw new Error(`out of frames for a page table at vpn ${to}`);
  // take_rmap_locks (i_mmap_rwsem for write), then the old table's PTL and the new one's (spin_lock_nested).
  opts.rmapLock?.lockIMmap('write');
  const oldPtl = ptlWord(cpu.L, t);
  const newPtl = ptlWord(cpu.L, nt);
  spinLock(cpu, oldPtl);
  if (newPtl !== oldPtl) spinLock(cpu, newPtl);
  let newHeld = newPtl !== oldPtl;
  let moved = 0;
  let dirty = false;
  try {
    for (let i = 0; i < n; i++) {
      const a = from + i;
      if (!(pt.entry(t, a & (W - 1)) & Pte.PRESENT)) continue;
      cpu.setKernelOp(op, a);
      // ptep_get_and_clear: atomic against a walker setting young/dirty, so the dirty bit read is the last one.
      const old = pt.clearEntry(t, a & (W - 1));
      if (!(old & Pte.PRESENT)) continue;
      if (old & Pte.DIRTY) dirty = true;
      // ptep_clear_flush: the old address is invalidated before the PTE appears at the new one.
      if (opts.flush === 'per-pte') moveFlush(cpu, mm, vma, a, a + 1, flushes, opts.lazy);
      pt.setEntry(nt, (to + i) & (W - 1), old);
      moved++;
    }
    if (opts.flush === 'under-ptl') {
      // eb66ae030829: flush_tlb_range(vma, old_end - len, old_end) with both PTE locks still held.
      if (moved) moveFlush(cpu, mm, vma, from, from + n, flushes, opts.lazy);
    } else if (opts.flush === 'dirty-under-ptl') {
      // 5d1904204c99: the new table's lock is dropped first; force_flush under the old one's, else later.
      if (newHeld) {
        spinUnlock(cpu, newPtl);
        newHeld = false;
      }
      if (dirty) moveFlush(cpu, mm, vma, from, from + n, flushes, opts.lazy);
      else state.needFlush = true;
    } else if (opts.flush === 'after-unlock') state.needFlush = true;
  } finally {
    if (newHeld) spinUnlock(cpu, newPtl);
    spinUnlock(cpu, oldPtl);
    opts.rmapLock?.unlockIMmap('write');
  }
  state.moved += moved;
}
