import { FlushKind, PTE_FRAME_MASK, Pte } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { ptLockWord, ptlWord, spinLock, spinUnlock } from '../machine/locks.js';
import type { TableAlloc } from '../machine/pagetable.js';
import type { FlushEvent } from './gather-trace.js';
import { type LazyTlbRules, flushTargets } from './lazy-tlb.js';
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
        if (!vma.pfnmap) tlb.tlbRemovePage(old & PTE_FRAME_MASK);
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
 * How move_page_tables invalidates the old addresses (mm/mremap.c):
 * - 'per-pte' (2.6.x): move_ptes clears each moved PTE with
 *   ptep_clear_flush, a flush_tlb_page of the old address per moved PTE,
 *   before set_pte_at at the new one; move_page_tables adds no flush.
 * - 'once' (since 3.x, under the page-table lock since eb66ae030829, 4.19):
 *   move_ptes clears with ptep_get_and_clear and, if it moved a present PTE,
 *   flushes its old range [old_addr, old_end) once, after the loop and
 *   before dropping the PTE locks. One move_ptes call covers one extent that
 *   stays inside one old and one new PTE table.
 * Either way the old translation is gone from every TLB before the locks
 * that keep the frame alive are dropped; the difference is the number of
 * flushes (and IPIs).
 */
export type MoveFlush = 'per-pte' | 'once';

export interface MoveOptions {
  flush: MoveFlush;
  /** Where new PTE/PMD tables come from (the kernel's quicklist, if any). */
  allocTable?: TableAlloc;
  /** The kernel's lazy TLB rules, if it has them (flush_tlb_range skips lazy CPUs as they say). */
  lazy?: LazyTlbRules;
}

/**
 * move_page_tables(vma, oldStart, vma, newStart, len): for each extent of
 * the old range inside one old and one new PTE table (move_ptes), move each
 * present PTE (clear at the old address, set_pte_at at the new one; new
 * tables allocated as needed), ascending, flushing as `opts.flush` says.
 * Frames are not freed. Returns the PTEs moved and the flushes issued.
 * Throws when out of frames for a table.
 */
export function movePageTables(
  cpu: Cpu,
  mm: Mm,
  vma: Vma,
  oldStart: number,
  newStart: number,
  len: number,
  syscall: number,
  opts: MoveOptions = { flush: 'once' },
): { moved: number; flushes: FlushEvent[] } {
  const W = cpu.L.W;
  const flushes: FlushEvent[] = [];
  let moved = 0;
  for (let off = 0; off < len; ) {
    const from = oldStart + off;
    const to = newStart + off;
    // extent: up to the end of the old PTE table, of the new one, and of the range.
    const extent = Math.min(W - (from & (W - 1)), W - (to & (W - 1)), len - off);
    moved += movePtes(cpu, mm, vma, from, to, extent, syscall, opts, flushes);
    off += extent;
  }
  return { moved, flushes };
}

/** move_ptes over one extent; pushes the flushes it issues. */
function movePtes(cpu: Cpu, mm: Mm, vma: Vma, from: number, to: number, n: number, syscall: number, opts: MoveOptions, flushes: FlushEvent[]): number {
  const pt = cpu.pt;
  const W = cpu.L.W;
  const asid = mm.asid;
  const op = kernelOp(syscall, Step.MOVE_PAGE_TABLES);
  const which = leafWhich(vma.exec);
  const flush = (start: number, end: number): void => {
    const r = { kind: FlushKind.RANGE, asid, start, end, which };
    cpu.flush(r, flushTargets(cpu, opts.lazy, r, opts.lazy?.rangeFreedTables ?? false));
    flushes.push({ t: 'flush', seq: 0, cls: end - start === 1 ? 'page' : 'range', kind: FlushKind.RANGE, asid, start, end, which, by: 'move_page_tables' });
  };
  const t = pt.table(asid, from, 1);
  if (t < 0) return 0;
  let any = false;
  for (let i = 0; i < n && !any; i++) any = (pt.entry(t, (from + i) & (W - 1)) & Pte.PRESENT) !== 0;
  if (!any) return 0;
  // alloc_new_pmd / pte_alloc under the mm's page_table_lock; then the old
  // table's PTL and the new one's (spin_lock_nested), held across the moves
  // and, since eb66ae030829, the flush.
  spinLock(cpu, ptLockWord(cpu.L, asid));
  const nt = pt.ensurePteTable(asid, to, opts.allocTable);
  spinUnlock(cpu, ptLockWord(cpu.L, asid));
  if (nt < 0) throw new Error(`out of frames for a page table at vpn ${to}`);
  const oldPtl = ptlWord(cpu.L, t);
  const newPtl = ptlWord(cpu.L, nt);
  spinLock(cpu, oldPtl);
  if (newPtl !== oldPtl) spinLock(cpu, newPtl);
  let moved = 0;
  try {
    for (let i = 0; i < n; i++) {
      const a = from + i;
      if (!(pt.entry(t, a & (W - 1)) & Pte.PRESENT)) continue;
      cpu.setKernelOp(op, a);
      const old = pt.clearEntry(t, a & (W - 1));
      if (!(old & Pte.PRESENT)) continue;
      // ptep_clear_flush: the old address is invalidated before the PTE appears at the new one.
      if (opts.flush === 'per-pte') flush(a, a + 1);
      pt.setEntry(nt, (to + i) & (W - 1), old);
      moved++;
    }
    // flush_tlb_range(vma, old_end - len, old_end), still under the PTE locks.
    if (opts.flush === 'once' && moved) flush(from, from + n);
  } finally {
    if (newPtl !== oldPtl) spinUnlock(cpu, newPtl);
    spinUnlock(cpu, oldPtl);
  }
  return moved;
}
