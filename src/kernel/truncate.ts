import type { FileCache } from './file-cache.js';
import { unmapPageRange } from './memory.js';
import { Step, kernelOp, syscallCode } from './ops.js';
import { KernelError, type Kernel, type SyscallResult } from './syscalls.js';

/**
 * truncate(file, pages): the page cache side of ftruncate shrinking a file,
 * as mm/truncate.c truncate_setsize → truncate_pagecache has done since
 * 2.6.32 (read in torvalds/linux mm/truncate.c and mm/memory.c):
 *
 *   i_size_write(inode, newsize)
 *   unmap_mapping_range(mapping, holebegin, 0, 1)
 *       i_mmap_lock_write (6.x: i_mmap_lock_read), then for every vma of
 *       the i_mmap that maps a page at or past newsize, in i_mmap order:
 *       zap_page_range_single (unmap_mapping_range_vma): a gather on the
 *       vma's mm, tlb_start_vma, zap, tlb_end_vma, tlb_finish_mmu — a flush
 *       of what that vma had mapped, and the mapping references dropped
 *   truncate_inode_pages(mapping, newsize)
 *       per page past newsize: find it, lock it (waiting out a fault that
 *       holds it); if a page table maps it again (a fault that raced the
 *       unmap), unmap_mapping_page; delete it from the page cache, drop the
 *       cache's reference, unlock, drop the lookup's: the page is freed
 *       here unless something still holds a reference
 *   unmap_mapping_range(mapping, holebegin, 0, 1) again (for private COW
 *       pages in the kernel; nothing to find here)
 *
 * What a flush here covers: the addresses where the zap found the page. A
 * TLB entry for an address where the page used to be, whose PTE someone
 * else cleared without flushing yet, is not truncate's to flush: with
 * mremap before eb66ae030829 (memory.ts MoveFlush) that entry outlives the
 * page freed here.
 *
 * Deviations: i_mmap_rwsem is taken for write in every era (6.x takes it for
 * read: two truncates of one file would overlap their walks there); no
 * inode lock (i_rwsem), no partial pages, no writeback, dirty accounting or
 * shadow entries; truncate_inode_pages handles one page at a time (the
 * kernel batches them, freeing after the batch's removal).
 */
export function truncate(k: Kernel, file: number, pages: number): SyscallResult {
  const fc = k.fileCache(file);
  if (!(Number.isInteger(pages) && pages >= 0 && pages <= fc.capacity)) throw new KernelError('EINVAL', `truncate file ${file} to ${pages} pages: a file holds 0 to ${fc.capacity} (machine.filePages)`);
  const res = k.enter(syscallCode('truncate'), file, 'truncate');
  try {
    fc.setSize(pages);
    unmapMappingRange(k, fc, pages, fc.capacity, res, true);
    truncateInodePages(k, fc, pages, res);
    unmapMappingRange(k, fc, pages, fc.capacity, res, false);
  } finally {
    k.leave();
  }
  return res;
}

/**
 * unmap_mapping_pages(mapping, first, last - first): zap every vma's
 * mapping of file pages [first, last), each with its own gather on its own
 * mm; when `promise`, the ranges zapped are the call's to have removed by
 * the time it returns (the stale-translation check).
 */
function unmapMappingRange(k: Kernel, fc: FileCache, first: number, last: number, res: SyscallResult, promise: boolean): void {
  const sc = res.code;
  fc.lockIMmap('write');
  try {
    k.cpu.setKernelOp(kernelOp(sc, Step.UNMAP_MAPPING_RANGE), first);
    for (const m of fc.maps()) {
      // vba..vea: the file pages the vma maps; zba..zea: those to zap.
      const vba = m.pgoff;
      const vea = vba + (m.end - m.start);
      const zba = Math.max(first, vba);
      const zea = Math.min(last, vea);
      if (zba >= zea) continue;
      const start = m.start + (zba - vba);
      const end = m.start + (zea - vba);
      const tlb = k.gather(k.mm(m.asid), false, sc);
      res.ptes += unmapPageRange(tlb, m, start, end);
      tlb.tlbFinishMmu(start, end);
      k.addGather(res, tlb);
      if (promise) res.removed.push({ asid: m.asid, start, end });
    }
  } finally {
    fc.unlockIMmap('write');
  }
}

/** truncate_inode_pages(mapping, from): drop every cached page at or past `from`. */
function truncateInodePages(k: Kernel, fc: FileCache, from: number, res: SyscallResult): void {
  const op = kernelOp(res.code, Step.TRUNCATE_INODE_PAGES);
  for (let index = from; index < fc.capacity; index++) {
    if (fc.peek(index) < 0) continue;
    const f = fc.lockCachedPage(index);
    if (f < 0) continue;
    k.cpu.setKernelOp(op, index);
    try {
      // truncate_cleanup_folio: mapped again since the unmap (a fault held the page): unmap it now.
      if (fc.pageMapped(f)) {
        unmapMappingRange(k, fc, index, index + 1, res, false);
        k.cpu.setKernelOp(op, index);
      }
      fc.removePage(index, f);
    } finally {
      fc.unlockPage(f);
      // folio_batch_release: the lookup's reference, the last one unless a mapping or a gather holds it.
      k.cpu.freeFrame(f);
    }
  }
}
