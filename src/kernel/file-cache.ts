import { FrameKind } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { F, FI } from '../machine/layout.js';
import { iMmapLockWord, pageLockWord, pagesLockWord, readLock, readUnlock, spinLock, spinUnlock, writeLock, writeUnlock } from '../machine/locks.js';
import { type Vma, decodeVmaFlags, encodeVmaFlags } from './mm.js';

/**
 * A file as the kernel's mm sees it (struct inode + struct address_space),
 * in its slot of the shared buffer (layout.ts FI), so that every CPU's
 * kernel sees one file:
 *
 *   i_size       SIZE, in pages. Written by truncate (i_size_write) before it
 *                unmaps; read by the fault under the page lock.
 *   i_mmap       the vmas of every mm that map the file, as records (asid,
 *                start, end, pgoff, flags) in traversal order: increasing
 *                pgoff, ties in insertion order, as the interval tree
 *                visits them (vma_interval_tree_foreach; "mm: avoid taking
 *                rmap locks in move_ptes()", 3.7, relies on that order).
 *                Changed only under i_mmap_rwsem held for write (vma_link,
 *                __vma_adjust/split, unlink_file_vma); walked under it.
 *   page cache   one slot per file page: the frame + 1, 0 for none
 *                (i_pages), changed under the page-cache lock (xa_lock).
 *
 * References (page->_refcount, F.REFS). A page-cache page is allocated with
 * one reference, the page cache's; each mapping by a page table holds one
 * more (taken by the fault, dropped by the zap's gather after its flush);
 * a lookup holds one while it works. The frame goes back to the allocator
 * only when the last is dropped: zapping every mapping leaves the page in
 * the cache, and truncate's removal from the cache frees it only if no
 * mapping, and no gather still holding a zapped mapping's reference, is
 * left. What no reference protects is a TLB entry: that is the race.
 *
 * Lock order, the kernel's (mm/rmap.c, mm/filemap.c headers): mmap_lock →
 * page lock (PG_locked) → i_mmap_rwsem → page_table_lock / PTL; the
 * page-cache lock is innermost and never held across another lock.
 */

/** An i_mmap record: the vma (its flags, file and pgoff) and the mm it belongs to. */
export interface FileMap extends Vma {
  asid: number;
  file: number;
  pgoff: number;
}

export class FileCache {
  private readonly i32: Int32Array;
  constructor(
    private readonly cpu: Cpu,
    readonly file: number,
  ) {
    const L = cpu.L;
    if (!Number.isInteger(file) || file < 0 || file >= L.cfg.files) throw new Error(`no file ${file} (the machine has ${L.cfg.files} file slots: machine.files)`);
    this.i32 = cpu.i32;
  }

  /** Pages the page cache can hold (machine.filePages). */
  get capacity(): number {
    return this.cpu.L.cfg.filePages;
  }

  /** i_size_read, in pages. */
  get size(): number {
    return Atomics.load(this.i32, this.cpu.L.file(this.file, FI.SIZE));
  }
  /** i_size_write. */
  setSize(pages: number): void {
    Atomics.store(this.i32, this.cpu.L.file(this.file, FI.SIZE), pages);
  }

  /** Pages in the page cache now (nrpages). */
  get nrPages(): number {
    return Atomics.load(this.i32, this.cpu.L.file(this.file, FI.NR_PAGES));
  }

  // ------------------------------------------------------------ i_mmap

  /** i_mmap_lock_read / i_mmap_lock_write. */
  lockIMmap(mode: 'read' | 'write'): void {
    const at = iMmapLockWord(this.cpu.L, this.file);
    if (mode === 'read') readLock(this.cpu, at);
    else writeLock(this.cpu, at);
  }
  unlockIMmap(mode: 'read' | 'write'): void {
    const at = iMmapLockWord(this.cpu.L, this.file);
    if (mode === 'read') readUnlock(this.cpu, at);
    else writeUnlock(this.cpu, at);
  }

  /** The i_mmap in traversal order (caller holds i_mmap_rwsem). */
  maps(): FileMap[] {
    const { i32, cpu, file } = this;
    const L = cpu.L;
    const n = Atomics.load(i32, L.file(file, FI.MAP_COUNT));
    const out: FileMap[] = [];
    for (let i = 0; i < n; i++) {
      out.push({
        asid: Atomics.load(i32, L.fileMap(file, i, 0)),
        start: Atomics.load(i32, L.fileMap(file, i, 1)),
        end: Atomics.load(i32, L.fileMap(file, i, 2)),
        pgoff: Atomics.load(i32, L.fileMap(file, i, 3)),
        ...decodeVmaFlags(Atomics.load(i32, L.fileMap(file, i, 4))),
        file,
      });
    }
    return out;
  }

  private store(maps: readonly FileMap[]): void {
    const { i32, cpu, file } = this;
    const L = cpu.L;
    if (maps.length > FI.MAX_MAPS) throw new Error(`more than ${FI.MAX_MAPS} mappings of file ${file}`);
    maps.forEach((m, i) => {
      Atomics.store(i32, L.fileMap(file, i, 0), m.asid);
      Atomics.store(i32, L.fileMap(file, i, 1), m.start);
      Atomics.store(i32, L.fileMap(file, i, 2), m.end);
      Atomics.store(i32, L.fileMap(file, i, 3), m.pgoff);
      Atomics.store(i32, L.fileMap(file, i, 4), encodeVmaFlags(m));
    });
    Atomics.store(i32, L.file(file, FI.MAP_COUNT), maps.length);
  }

  /** vma_interval_tree_insert: after every record of a lower or equal pgoff (caller holds i_mmap_rwsem for write). */
  link(asid: number, vma: Vma): void {
    const maps = this.maps();
    const rec: FileMap = { ...vma, asid, file: this.file, pgoff: vma.pgoff ?? 0 };
    const at = maps.findIndex((m) => m.pgoff > rec.pgoff);
    maps.splice(at < 0 ? maps.length : at, 0, rec);
    this.store(maps);
  }

  /** vma_interval_tree_remove of the record of `vma` in `asid` (caller holds i_mmap_rwsem for write). */
  unlink(asid: number, vma: Vma): void {
    const maps = this.maps();
    const i = maps.findIndex((m) => m.asid === asid && m.start === vma.start && m.end === vma.end);
    if (i < 0) throw new Error(`vma [${vma.start}, ${vma.end}) of address space ${asid} is not in the i_mmap of file ${this.file}`);
    maps.splice(i, 1);
    this.store(maps);
  }

  /**
   * __split_vma's i_mmap side: the record of `vma` keeps [start, at), and
   * the tail [at, end) is inserted as a new vma would be (caller holds
   * i_mmap_rwsem for write).
   */
  splitMap(asid: number, vma: Vma, at: number): void {
    this.unlink(asid, vma);
    this.link(asid, { ...vma, end: at });
    this.link(asid, { ...vma, start: at, pgoff: (vma.pgoff ?? 0) + (at - vma.start) });
  }

  /** mapping_mapped: some vma maps the file (callers skip the i_mmap walk otherwise). */
  get mappingMapped(): boolean {
    return Atomics.load(this.i32, this.cpu.L.file(this.file, FI.MAP_COUNT)) > 0;
  }

  // -------------------------------------------------------- page cache

  private slot(index: number): number {
    if (!(index >= 0 && index < this.capacity)) throw new Error(`page ${index} of file ${this.file} is past its page cache (${this.capacity} pages: machine.filePages)`);
    return this.cpu.L.filePage(this.file, index);
  }

  /** The frame caching page `index`, or -1 (a racy look: callers that act on it take a reference and recheck). */
  peek(index: number): number {
    return Atomics.load(this.i32, this.slot(index)) - 1;
  }

  /**
   * filemap_fault's lookup (find_get_page, or __filemap_get_folio with
   * FGP_CREAT: a new page added to the cache), then lock_page and the
   * rechecks under the lock: still this file's page at `index`
   * (page->mapping), and `index` below i_size. Returns the frame, locked,
   * with a reference the caller owns; -1 when `index` is past i_size
   * (SIGBUS). Throws ENOMEM through `outOfFrames` when no frame is left.
   */
  getLockedPage(index: number, outOfFrames: () => Error): number {
    for (;;) {
      const f = this.findGet(index, outOfFrames);
      if (f < 0) return -1;
      // Truncated while we slept on the page lock: look again (past i_size now: SIGBUS).
      if (this.lockIfCached(index, f, () => index < this.size)) return f;
    }
  }

  /**
   * find_lock_entries for truncate: page `index`, referenced and locked,
   * provided it is still in the cache once locked; -1 if none.
   */
  lockCachedPage(index: number): number {
    const f = this.findGet(index, null);
    return f >= 0 && this.lockIfCached(index, f, () => true) ? f : -1;
  }

  /**
   * Under the page-cache lock: the frame caching `index` with a reference
   * taken for the caller, or -1. With `create` (a fault), -1 means `index`
   * is past i_size, and a missing page is added (add_to_page_cache_lru: the
   * allocation's reference is the page cache's); `create` throws when no
   * frame is left.
   */
  private findGet(index: number, create: (() => Error) | null): number {
    const { cpu, i32 } = this;
    const L = cpu.L;
    const at = this.slot(index);
    const plock = pagesLockWord(L, this.file);
    spinLock(cpu, plock);
    try {
      if (create && index >= this.size) return -1;
      let f = Atomics.load(i32, at) - 1;
      if (f < 0 && create) {
        f = cpu.alloc.alloc(FrameKind.DATA, -1);
        if (f < 0) throw create();
        Atomics.store(i32, at, f + 1);
        Atomics.add(i32, L.file(this.file, FI.NR_PAGES), 1);
      }
      // The caller's reference, taken under the page-cache lock: the cache's own
      // reference keeps the count above zero while the slot holds the frame.
      if (f >= 0 && cpu.alloc.get(f) <= 0) throw new Error(`page-cache page ${index} of file ${this.file} (frame ${f}) has no reference`);
      return f;
    } finally {
      spinUnlock(cpu, plock);
    }
  }

  /**
   * lock_page(frame), then whether the cache still holds it at `index` and
   * `still()` holds; if not, the lock and the caller's reference go.
   */
  private lockIfCached(index: number, frame: number, still: () => boolean): boolean {
    const { cpu, i32 } = this;
    spinLock(cpu, pageLockWord(cpu.L, frame));
    if (Atomics.load(i32, this.slot(index)) - 1 === frame && still()) return true;
    spinUnlock(cpu, pageLockWord(cpu.L, frame));
    cpu.freeFrame(frame);
    return false;
  }

  /**
   * delete_from_page_cache / filemap_remove_folio of the locked page `frame`
   * at `index`, then the cache's reference dropped (folio_put in
   * filemap_free_folio): the frame is freed here unless a mapping, a gather
   * or a lookup still holds it.
   */
  removePage(index: number, frame: number): void {
    const { cpu, i32 } = this;
    const L = cpu.L;
    const at = this.slot(index);
    const plock = pagesLockWord(L, this.file);
    spinLock(cpu, plock);
    const was = Atomics.load(i32, at) - 1;
    if (was === frame) {
      Atomics.store(i32, at, 0);
      Atomics.sub(i32, L.file(this.file, FI.NR_PAGES), 1);
    }
    spinUnlock(cpu, plock);
    if (was !== frame) throw new Error(`page ${index} of file ${this.file} is frame ${was}, not the locked frame ${frame}`);
    cpu.freeFrame(frame);
  }

  /** unlock_page. */
  unlockPage(frame: number): void {
    spinUnlock(this.cpu, pageLockWord(this.cpu.L, frame));
  }

  /** page_mapped: page tables still map the frame. */
  pageMapped(frame: number): boolean {
    return Atomics.load(this.i32, this.cpu.L.frame(frame, F.MAPCOUNT)) > 0;
  }
}

/** page_add_*_rmap: one more page table maps `frame`. */
export function pageAddRmap(cpu: Cpu, frame: number): void {
  Atomics.add(cpu.i32, cpu.L.frame(frame, F.MAPCOUNT), 1);
}

/** page_remove_rmap: a page table stopped mapping `frame` (its reference goes with the gather). */
export function pageRemoveRmap(cpu: Cpu, frame: number): void {
  Atomics.sub(cpu.i32, cpu.L.frame(frame, F.MAPCOUNT), 1);
}
