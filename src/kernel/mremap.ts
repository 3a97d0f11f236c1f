import { FileCache } from './file-cache.js';
import { movePageTables } from './memory.js';
import type { Mm, Vma } from './mm.js';
import { Step, kernelOp, syscallCode } from './ops.js';
import { KernelError, type Kernel, type SyscallResult } from './syscalls.js';

/**
 * mremap(old, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, new): mm/mremap.c
 * mremap_to → move_vma, under mmap_lock held for write (as 4.19 and 6.x
 * do, and 2.6.38 and 3.1 in SYSCALL_DEFINE5(mremap), read in
 * 303750856/linux-3.1 and Savaged-Zen/Savaged-Zen mm/mremap.c):
 *
 *   1. do_munmap of the destination [new, new + len) (MREMAP_FIXED);
 *   2. vma_to_resize: [old, old + len) must lie in one vma (EFAULT);
 *   3. copy_vma: a vma like the old one at [new, new + len), its file page
 *      new_pgoff = pgoff + (old - vm_start), linked into the mm and, for a
 *      file vma, into its i_mmap (vma_link, under i_mmap_rwsem for write);
 *      smpsim never merges vmas, so the copy is a new vma, which lands after
 *      the old one in i_mmap order (new_pgoff >= pgoff, ties in insertion
 *      order): need_rmap_locks is false, as copy_vma says then;
 *   4. move_page_tables(vma, old, new_vma, new, len, need_rmap_locks), with
 *      the era's flush (memory.ts MoveFlush); before 3.7 ("mm: avoid taking
 *      rmap locks in move_ptes()") move_ptes took the file's i_mmap lock for
 *      every file vma, which smpsim does for the 'per-pte' era;
 *   5. do_munmap of the old range [old, old + len): zap (nothing is left
 *      there), free_pgtables, unlink_file_vma of the old vma, tlb_finish_mmu.
 *
 * Why the order of the flush and the PTE locks in step 4 matters is in
 * memory.ts (MoveFlush): mremap keeps no reference to the pages it moves.
 *
 * Deviations: old_len == new_len only (no growing or shrinking move), no
 * vma merging, no MREMAP_DONTUNMAP, no PMD/PUD-level moves (move_normal_pmd,
 * 4.20+: smpsim always moves PTE by PTE), no mlock or accounting; the move
 * is never undone (an out-of-frames error mid-move is the scenario's).
 */

export interface MremapArgs {
  /** The old range [start, start + pages). */
  start: number;
  pages: number;
  /** The new address (MREMAP_FIXED). */
  newStart: number;
}

export function mremap(k: Kernel, mm: Mm, a: MremapArgs): SyscallResult {
  const { start: old, pages: len, newStart: to } = a;
  const limit = k.cpu.L.vpnLimit;
  if (!(len > 0) || old < 0 || to < 0 || old + len > limit || to + len > limit) throw new KernelError('EINVAL', `bad range: [${old}, ${old + len}) to [${to}, ${to + len})`);
  // mremap_to: the new range may not overlap the old one.
  if (to < old + len && old < to + len) throw new KernelError('EINVAL', `[${to}, ${to + len}) overlaps [${old}, ${old + len})`);
  const sc = syscallCode('mremap');
  const res = k.enter(sc, old, 'mremap');
  k.mmapLock(mm, 'write');
  try {
    // MREMAP_FIXED: whatever was mapped at the destination goes first (not the call's promise).
    k.doMunmap(mm, to, to + len, res, null);
    const vma = mm.vmaAt(old);
    if (!vma || old + len > vma.end) throw new KernelError('EFAULT', `[${old}, ${old + len}) is not inside one vma`);
    if (vma.huge || vma.pfnmap) throw new KernelError('EINVAL', `mremap of a ${vma.huge ? 'hugetlb' : 'pfnmap'} vma`);
    const newVma = copyVma(k, mm, vma, old, to, len);
    k.cpu.setKernelOp(kernelOp(sc, Step.COPY_VMA), to);
    const fc = vma.file === undefined ? null : new FileCache(k.cpu, vma.file);
    // need_rmap_locks is false (see above); the 2.6.x-3.6 kernels locked the file's i_mmap anyway.
    const rmapLock = fc && k.policy.moveFlush === 'per-pte' ? fc : null;
    const move = movePageTables(k.cpu, mm, vma, old, newVma.start, len, sc, { flush: k.policy.moveFlush, allocTable: k.tableAlloc, rmapLock });
    res.ptes = move.moved;
    res.otherFlushes.push(...move.flushes);
    res.trace.push(...move.flushes);
    // do_munmap(mm, old_addr, old_len): a 4.20+ kernel does not downgrade mmap_lock here.
    k.doMunmap(mm, old, old + len, res, null);
    res.removed.push({ start: old, end: old + len });
  } finally {
    k.mmapUnlock(mm, 'write');
    k.leave();
  }
  return res;
}

/** copy_vma without merging: the new vma in the mm and, for a file vma, in its i_mmap (vma_link). */
function copyVma(k: Kernel, mm: Mm, vma: Vma, old: number, to: number, len: number): Vma {
  const newVma: Vma = { ...vma, start: to, end: to + len };
  if (vma.file !== undefined) newVma.pgoff = (vma.pgoff ?? 0) + (old - vma.start);
  mm.insert(newVma);
  if (vma.file !== undefined) {
    const fc = new FileCache(k.cpu, vma.file);
    fc.lockIMmap('write');
    fc.link(mm.asid, newVma);
    fc.unlockIMmap('write');
  }
  return newVma;
}
