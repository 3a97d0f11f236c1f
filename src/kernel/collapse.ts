import { FrameKind, PTE_FRAME_MASK, Pte, Which } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { F, H } from '../machine/layout.js';
import { ptLockWord, spinLock, spinUnlock } from '../machine/locks.js';
import type { TableAlloc } from '../machine/pagetable.js';
import type { FlushEvent, SyncEvent } from './gather-trace.js';
import { flushTlbRange } from './lazy-tlb.js';
import type { Mm, Vma } from './mm.js';
import { Step, kernelOp } from './ops.js';
import type { TlbPolicy } from './policies/types.js';

/**
 * khugepaged collapsing the pages of one PTE table's span into a huge page
 * and retracting the page table, under mmap_lock held for write by the
 * caller. The order is that of the path that frees the table, collapse_file
 * followed by the retraction (6.1: collapse_and_free_pmd; 6.x:
 * collapse_pte_mapped_thp, retract_page_tables):
 *
 *   1. the pages are copied into the new huge page (collapse_file), the old
 *      ones still mapped
 *   2. pmd_lock; pmdp_collapse_flush: the pmd entry that points at the PTE
 *      table is cleared, then flush_tlb_range of the span (walk caches too:
 *      it is a page-table removal); unlock
 *   3. tlb_remove_table_sync_one, since 2ba99c5e0881 ("mm/khugepaged: fix
 *      GUP-fast interaction by sending IPI", 6.2 and stable): an IPI to the
 *      mm's CPUs that returns once each has interrupts on, so no gup_fast
 *      that read the old pmd is still walking the table
 *   4. the old PTE table is freed (pte_free; 6.x: pte_free_defer)
 *   5. the new mapping is installed under pmd_lock, and the old pages go
 *
 * Why the order matters. gup_fast walks with interrupts off and no lock:
 * it may have read the pmd entry just before step 2 and read the table
 * after it. With IPI flushes (x86 without INVLPGB) the flush of step 2
 * waits until that walk is over; with hardware-broadcast invalidation it
 * does not, and only step 3 keeps step 4 from freeing the table under the
 * walker. gup_fast's own recheck (the pmd re-read after it took its
 * reference, 70cbc3cc78a9) notices the pmd changed, but only after it has
 * read the table. On x86, a CPU in lazy TLB mode that step 2's flush IPI
 * skips (flush_tlb_range passed freed_tables = false until 3ef938c35035,
 * 2025) keeps walk-cache pointers to the table; its speculative walks then
 * read the table freed in step 4.
 *
 * Deviations: the machine has no huge pages, so the "huge page" is as many
 * fresh base frames as there were pages, mapped by a fresh PTE table;
 * anonymous memory (collapse_huge_page) copies after the flush and deposits
 * the old table instead of freeing it, which the model does not do.
 * tlb_remove_table_sync_one is an IPI only where page tables are freed
 * through RCU (MMU_GATHER_RCU_TABLE_FREE: the policy's rcuTableFree); else
 * it does nothing. Stores to the old pages between the copy and step 2 are
 * not carried over (the kernel holds the pages locked and unmapped).
 */
export interface CollapseResult {
  /** Pages copied into the new mapping (0: nothing to collapse). */
  copied: number;
  flushes: FlushEvent[];
  syncs: SyncEvent[];
}

export function collapseHugePage(cpu: Cpu, mm: Mm, vma: Vma, start: number, policy: TlbPolicy, syscall: number, allocTable?: TableAlloc): CollapseResult {
  const { pt, alloc, i32, L } = cpu;
  const W = L.W;
  const asid = mm.asid;
  const res: CollapseResult = { copied: 0, flushes: [], syncs: [] };
  const pmd = pt.table(asid, start, 2);
  if (pmd < 0) return res;
  const pi = Math.floor(start / W) % W;
  const pe = pt.entry(pmd, pi);
  if (!(pe & Pte.PRESENT)) return res;
  const table = pe & PTE_FRAME_MASK;
  const present: number[] = [];
  for (let i = 0; i < W; i++) if (pt.entry(table, i) & Pte.PRESENT) present.push(i);
  if (!present.length) return res;
  // alloc_charge_folio and the new table come first: an allocation failure leaves the mapping alone.
  const fresh: number[] = [];
  const newTable = allocTable ? allocTable(FrameKind.TABLE_PTE, asid) : alloc.alloc(FrameKind.TABLE_PTE, asid);
  if (newTable >= 0) {
    for (let k = 0; k < present.length; k++) {
      const f = alloc.alloc(FrameKind.DATA, asid);
      if (f < 0) break;
      fresh.push(f);
    }
  }
  if (newTable < 0 || fresh.length < present.length) {
    for (const f of fresh) cpu.freeFrame(f);
    if (newTable >= 0) cpu.freeFrame(newTable);
    return res;
  }
  // 1. Copy into the new pages.
  cpu.setKernelOp(kernelOp(syscall, Step.COLLAPSE_COPY), start);
  const old: number[] = [];
  for (let k = 0; k < present.length; k++) {
    const e = pt.entry(table, present[k]);
    old.push(e);
    const from = e & PTE_FRAME_MASK;
    i32.copyWithin(L.word(fresh[k], 0), L.word(from, 0), L.word(from, 0) + W);
  }
  const tableLock = ptLockWord(L, asid);
  // 2. pmdp_collapse_flush under pmd_lock.
  spinLock(cpu, tableLock);
  try {
    cpu.setKernelOp(kernelOp(syscall, Step.PMDP_COLLAPSE_FLUSH), start);
    pt.clearEntry(pmd, pi);
    flushTlbRange(cpu, policy.lazyTlb, asid, start, start + W, Which.DTLB | (vma.exec ? Which.ITLB : 0) | Which.WALK, 'pmdp_collapse_flush', res.flushes);
  } finally {
    spinUnlock(cpu, tableLock);
  }
  // 3. tlb_remove_table_sync_one.
  if (policy.collapseSync === 'sync-ipi' && policy.rcuTableFree !== false) {
    cpu.setKernelOp(kernelOp(syscall, Step.TLB_REMOVE_TABLE_SYNC_ONE), start);
    const mask = pt.cpumask(asid);
    cpu.syncIpi(mask);
    res.syncs.push({ t: 'sync', seq: 0, mask, by: 'tlb_remove_table_sync_one' });
  }
  // 4. pte_free of the old table.
  cpu.setKernelOp(kernelOp(syscall, Step.PTE_FREE), table);
  cpu.freeFrame(table);
  // 5. The new mapping, under pmd_lock; then the old pages go.
  spinLock(cpu, tableLock);
  try {
    for (let k = 0; k < present.length; k++) {
      Atomics.store(i32, L.frame(fresh[k], F.MAP_SEQ), Atomics.add(i32, H.KSEQ, 1) + 1);
      pt.setEntry(newTable, present[k], fresh[k] | (old[k] & (Pte.WRITE | Pte.EXEC)) | Pte.PRESENT);
    }
    pt.setEntry(pmd, pi, newTable | Pte.PRESENT);
  } finally {
    spinUnlock(cpu, tableLock);
  }
  for (const e of old) {
    cpu.setKernelOp(kernelOp(syscall, Step.COLLAPSE_COPY), e & PTE_FRAME_MASK);
    cpu.freeFrame(e & PTE_FRAME_MASK);
  }
  res.copied = present.length;
  return res;
}
