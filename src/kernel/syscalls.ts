import { FrameKind, Pte } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { F, H } from '../machine/layout.js';
import { downgradeWrite, mmapLockWord, ptLockWord, ptlWord, readLock, readUnlock, spinLock, spinUnlock, writeLock, writeUnlock } from '../machine/locks.js';
import { type FlushEvent, type GatherStats, type TraceEvent, addStats, emptyStats } from './gather-trace.js';
import { collapseHugePage } from './collapse.js';
import { FileCache, pageAddRmap } from './file-cache.js';
import { freePgdRange, freePgtables, movePageTables, unmapVmas } from './memory.js';
import { Mm, type Vma, type VmaFlags, filePageOf } from './mm.js';
import { type MremapArgs, mremap } from './mremap.js';
import { truncate } from './truncate.js';
import { type GatherOptions, MmuGather } from './mmu-gather.js';
import { Step, syscallCode, kernelOp } from './ops.js';
import { type PolicyOptions, type TlbPolicy, createPolicy } from './policies/index.js';
import { Quicklist } from './quicklist.js';
import type { TableAlloc } from '../machine/pagetable.js';

/**
 * The system calls a CPU's kernel runs. Several CPUs may run them at once on
 * one mm: each CPU has its own Kernel (and its own Mm views), and they agree
 * through the shared buffer and the kernel's own locks (machine/locks.ts):
 *
 *   mmap_lock          write: mmap, munmap (downgraded to read after the
 *                      vmas are detached, on policies since 4.20:
 *                      dd2283f2605e), mremap, shift_arg_pages (exec's
 *                      setup_arg_pages), exit_mmap; read: madvise(DONTNEED),
 *                      fault. gup_fast and truncate take none.
 *   page lock          a page-cache page's PG_locked: the fault of a file
 *                      page from lookup to PTE set, truncate per page
 *   i_mmap_rwsem       a file's: write to link, split or unlink a file vma
 *                      (mmap, munmap, mremap, exit), around move_ptes when
 *                      the era takes the rmap locks; truncate's walk
 *   page_table_lock    the mm's: populating upper tables (__pte_alloc,
 *                      __pmd_alloc) in fault and move_page_tables
 *   PTL                a PTE table's split lock: zap_pte_range while it
 *                      clears that table's PTEs, fault while it sets one,
 *                      move_ptes (old, then new table)
 *
 * Lock order, as the kernel's: mmap_lock, then a page lock, then
 * i_mmap_rwsem, then page_table_lock or PTLs (never both); move_ptes takes
 * the old table's PTL before the new one's, always under mmap_lock held for
 * write, so two moves never hold them in opposite orders. A file's
 * page-cache lock is innermost and held alone.
 *
 * Each call names itself and its steps with Cpu.setKernelOp as it goes (the
 * kernel points a script can wait for or hold), and clears the op on return.
 *
 *   mmap + faultIn      create a vma; allocate and map its frames (a file
 *                       vma's from the file's page cache: file-cache.ts)
 *   munmap              do_munmap → unmap_region: gather; per vma start_vma,
 *                       zap, end_vma; free_pgtables (unlink_file_vma);
 *                       tlb_finish_mmu
 *   mremap              move_vma: copy_vma, move_page_tables, do_munmap of
 *                       the old range (mremap.ts)
 *   truncate            truncate_pagecache: unmap_mapping_range over the
 *                       file's i_mmap, truncate_inode_pages (truncate.ts)
 *   madviseDontneed     zap_page_range per vma: a gather each, no table frees
 *   shiftArgPages       exec: move_page_tables down, then free_pgd_range of
 *                       the vacated range in a gather with NO start_vma,
 *                       end_vma or remove_tlb_entry
 *   exitMmap            fullmm gather: zap all, free all tables, finish; then
 *                       free the pgd
 *
 * After a call that removed a range, result.removed names it for
 * staleAfterReturn (docs/domain.md section 6).
 */

export class KernelError extends Error {
  constructor(
    readonly errno: 'EINVAL' | 'ENOMEM' | 'EFAULT',
    message: string,
  ) {
    super(`${errno}: ${message}`);
    this.name = 'KernelError';
  }
}

export interface KernelOptions extends Omit<GatherOptions, 'syscall'> {
  /** A policy name from POLICIES, or a policy object. */
  policy: string | TlbPolicy;
  policyOptions?: PolicyOptions;
}

/** One gather of a syscall: what it did. */
export interface GatherReport {
  fullmm: boolean;
  trace: TraceEvent[];
  stats: GatherStats;
}

export interface SyscallResult {
  syscall: string;
  /** The syscall's code (kernel/ops.ts syscallCode). */
  code: number;
  gathers: GatherReport[];
  /** Flushes made outside any gather (move_page_tables). */
  otherFlushes: FlushEvent[];
  /** Every event of the call in order (other flushes and gathers, as they happened). */
  trace: TraceEvent[];
  /** The gathers' stats summed; flushes outside gathers are in otherFlushes only. */
  stats: GatherStats;
  /** PTEs cleared (zap) or moved (shift_arg_pages). */
  ptes: number;
  /**
   * The ranges no CPU may translate once the call has returned (what it
   * found mapped and removed: madvise promises nothing for a part of its
   * range without a vma), empty for none.
   */
  removed: RemovedRange[];
  /** The kernel sequence (H.KSEQ) at the call's entry: mappings made later are not its to remove. */
  entrySeq: number;
}

/** A range a call removed, in the address space it names (asid; absent: the call's own). */
export interface RemovedRange {
  start: number;
  end: number;
  asid?: number;
}

export class Kernel {
  readonly cpu: Cpu;
  readonly policy: TlbPolicy;
  readonly mms = new Map<number, Mm>();
  /** This CPU's page-table quicklist, when the policy's architecture has one (pgalloc.h). */
  readonly quicklist: Quicklist | null;
  /** Where this CPU's page-table allocations come from: the quicklist first, if any (for the calls in this folder). */
  readonly tableAlloc: TableAlloc | undefined;
  private readonly gatherOpts: Omit<GatherOptions, 'syscall'>;

  constructor(cpu: Cpu, opts: KernelOptions) {
    this.cpu = cpu;
    this.policy = typeof opts.policy === 'string' ? createPolicy(opts.policy, opts.policyOptions) : opts.policy;
    const q = this.policy.quicklist ? new Quicklist(cpu, this.policy.quicklist) : null;
    this.quicklist = q;
    this.tableAlloc = q ? (kind, owner) => q.allocTable(kind, owner) : undefined;
    this.gatherOpts = { batchCapacity: opts.batchCapacity, tableBatchCapacity: opts.tableBatchCapacity, tableBatchAlloc: opts.tableBatchAlloc, onTrace: opts.onTrace, quicklist: q };
  }

  /** A new mm with an empty pgd in machine slot `asid`. */
  createMm(asid: number): Mm {
    const mm = Mm.create(this.cpu, asid);
    this.mms.set(asid, mm);
    return mm;
  }

  /**
   * The mm in slot `asid`, which another CPU's Kernel may have created: this
   * CPU's view of it (the VMA list, tlb_flush_pending and the locks are
   * shared). `vmas`, if given, must be the mm's list (a check for callers
   * that expect a particular layout).
   */
  attachMm(asid: number, vmas?: readonly Vma[]): Mm {
    if (!this.cpu.pt.isLive(asid)) throw new Error(`address space ${asid} does not exist`);
    const mm = this.mms.get(asid) ?? new Mm(this.cpu.i32, this.cpu.L, asid);
    if (vmas) {
      const key = (l: readonly Vma[]): string => JSON.stringify(l.map((v) => [v.start, v.end, v.exec, v.write, v.huge, v.pfnmap, v.file ?? -1, v.file === undefined ? 0 : (v.pgoff ?? 0)]));
      if (key(vmas) !== key(mm.vmas)) throw new Error(`address space ${asid} has vmas ${key(mm.vmas)}, not ${key(vmas)}`);
    }
    this.mms.set(asid, mm);
    return mm;
  }

  /** This CPU's view of the mm in slot `asid` (attached on first use: one mm seen by all). */
  mm(asid: number): Mm {
    const mm = this.mms.get(asid);
    if (mm) return mm;
    if (!this.cpu.pt.isLive(asid)) throw new Error(`no mm for address space ${asid}`);
    return this.attachMm(asid);
  }

  /** tlb_gather_mmu on behalf of `syscall` (for callers composing their own sequences). */
  gather(mm: Mm, fullmm: boolean, syscall: number = syscallCode('none')): MmuGather {
    return new MmuGather(this.cpu, mm, fullmm, this.policy, { ...this.gatherOpts, syscall }).begin();
  }

  /** The file in machine file slot `file` (one file seen by all CPUs: its page cache and i_mmap are shared). */
  fileCache(file: number): FileCache {
    return new FileCache(this.cpu, file);
  }

  /**
   * mmap(MAP_FIXED-less): a new vma [start, start + pages); throws EINVAL if
   * it overlaps. With flags.file, a MAP_SHARED mapping of that file from
   * page flags.pgoff (default 0): vma_link puts it in the file's i_mmap,
   * under i_mmap_rwsem for write.
   */
  mmap(mm: Mm, start: number, pages: number, flags: VmaFlags = {}): Vma {
    const end = start + pages;
    if (!(pages > 0) || start < 0 || end > this.cpu.L.vpnLimit) throw new KernelError('EINVAL', `bad range [${start}, ${end})`);
    const fc = flags.file === undefined ? null : this.fileCache(flags.file);
    const pgoff = flags.pgoff ?? 0;
    if (fc && (flags.huge || flags.pfnmap)) throw new KernelError('EINVAL', 'a file mapping is neither hugetlb nor pfnmap here');
    if (fc && !(pgoff >= 0 && pgoff + pages <= fc.capacity)) throw new KernelError('EINVAL', `file pages [${pgoff}, ${pgoff + pages}) are past the ${fc.capacity} pages a file can have (machine.filePages)`);
    this.enter(syscallCode('mmap'), start);
    this.mmapLock(mm, 'write');
    try {
      if (mm.overlapping(start, end).length) throw new KernelError('EINVAL', `[${start}, ${end}) overlaps a mapping`);
      const vma: Vma = { start, end, exec: !!flags.exec, write: flags.write ?? !flags.exec, huge: !!flags.huge, pfnmap: !!flags.pfnmap, ...(fc ? { file: fc.file, pgoff } : {}) };
      mm.insert(vma);
      if (fc) {
        fc.lockIMmap('write');
        fc.link(mm.asid, vma);
        fc.unlockIMmap('write');
      }
      return vma;
    } finally {
      this.mmapUnlock(mm, 'write');
      this.leave();
    }
  }

  /**
   * Fault in every unmapped page of [start, end) that lies in a vma, as a
   * read fault (the PTE is clean). An anonymous vma gets a fresh data frame
   * (owned by the mm; by nobody for VM_PFNMAP, whose frames zap never
   * frees). A file vma gets the file's page-cache page (filemap_fault:
   * found, or added to the cache), locked and referenced from the lookup
   * until its PTE is set, as do_read_fault → finish_fault do; a page past
   * i_size is SIGBUS and stays unmapped. Mapped with the vma's write/exec.
   * Returns pages mapped.
   */
  faultIn(mm: Mm, start: number, end: number): number {
    const { pt, alloc, i32, L } = this.cpu;
    const W = L.W;
    this.enter(syscallCode('fault'), start);
    this.mmapLock(mm, 'read');
    let n = 0;
    try {
      for (const vma of mm.overlapping(start, end)) {
        const flags = (vma.write ? Pte.WRITE : 0) | (vma.exec ? Pte.EXEC : 0);
        const fc = vma.file === undefined ? null : this.fileCache(vma.file);
        for (let vpn = Math.max(start, vma.start); vpn < Math.min(end, vma.end); vpn++) {
          this.cpu.setKernelOp(kernelOp(syscallCode('fault'), Step.FAULT_IN), vpn);
          if (pt.pte(mm.asid, vpn) & Pte.PRESENT) continue;
          // filemap_fault: the page, referenced and locked (page lock before the page-table locks).
          const page = fc ? fc.getLockedPage(filePageOf(vma, vpn), () => new KernelError('ENOMEM', `out of frames faulting in vpn ${vpn}`)) : -1;
          if (fc && page < 0) continue; // VM_FAULT_SIGBUS: past i_size
          let mapped = false;
          try {
            // __pte_alloc under the mm's page_table_lock, then set_pte_at under the table's PTL.
            spinLock(this.cpu, ptLockWord(L, mm.asid));
            const t = pt.ensurePteTable(mm.asid, vpn, this.tableAlloc);
            spinUnlock(this.cpu, ptLockWord(L, mm.asid));
            if (t < 0) throw new KernelError('ENOMEM', `out of frames faulting in vpn ${vpn}`);
            spinLock(this.cpu, ptlWord(L, t));
            try {
              if (pt.entry(t, vpn & (W - 1)) & Pte.PRESENT) continue;
              const f = fc ? page : alloc.alloc(FrameKind.DATA, vma.pfnmap ? -1 : mm.asid);
              if (f < 0) throw new KernelError('ENOMEM', `out of frames faulting in vpn ${vpn}`);
              Atomics.store(i32, L.frame(f, F.MAP_SEQ), Atomics.add(i32, H.KSEQ, 1) + 1);
              // page_add_*_rmap; a file page's lookup reference becomes the mapping's.
              if (!vma.pfnmap) pageAddRmap(this.cpu, f);
              pt.setEntry(t, vpn & (W - 1), f | flags | Pte.PRESENT);
              mapped = true;
              n++;
            } finally {
              spinUnlock(this.cpu, ptlWord(L, t));
            }
          } finally {
            if (fc && page >= 0) {
              fc.unlockPage(page);
              if (!mapped) this.cpu.freeFrame(page);
            }
          }
        }
      }
    } finally {
      this.mmapUnlock(mm, 'read');
      this.leave();
    }
    return n;
  }

  /** munmap(start, end): do_munmap → unmap_region. */
  munmap(mm: Mm, start: number, end: number): SyscallResult {
    const res = this.enter(syscallCode('munmap'), start, 'munmap');
    this.mmapLock(mm, 'write');
    const lock = { held: 'write' as 'read' | 'write' };
    try {
      this.doMunmap(mm, start, end, res, this.policy.munmapDowngrade ? lock : null);
      res.removed.push({ start, end });
    } finally {
      this.mmapUnlock(mm, lock.held);
      this.leave();
    }
    return res;
  }

  /**
   * do_munmap of [start, end) with mmap_lock held for write (munmap, and
   * mremap for the old range): detach the vmas (a file vma's i_mmap record
   * split with it, under i_mmap_rwsem), downgrade mmap_lock to read if
   * `downgrade` is given (4.20+ munmap; it says how the lock is held from
   * then on, so that an error past that point unlocks it rightly), then
   * unmap_region: zap, free_pgtables (which unlinks each file vma from its
   * i_mmap: until then truncate still finds it), tlb_finish_mmu. Adds the
   * gather to `res` (the range removed is the caller's to promise).
   */
  doMunmap(mm: Mm, start: number, end: number, res: SyscallResult, downgrade: { held: 'read' | 'write' } | null): void {
    const syscall = res.code;
    const { detached, prev, next, splits } = mm.detach(start, end);
    for (const { vma, at } of splits) {
      if (vma.file === undefined) continue;
      const fc = this.fileCache(vma.file);
      fc.lockIMmap('write');
      fc.splitMap(mm.asid, vma, at);
      fc.unlockIMmap('write');
    }
    if (detached.length) {
      if (downgrade) {
        // 4.20+ (dd2283f2605e): the vmas are gone from the mm; zap and free the tables under the read lock.
        downgradeWrite(this.cpu, mmapLockWord(this.cpu.L, mm.asid));
        downgrade.held = 'read';
        this.cpu.setKernelOp(kernelOp(syscall, Step.MMAP_WRITE_DOWNGRADE), start);
      }
      const tlb = this.gather(mm, false, syscall);
      res.ptes += unmapVmas(tlb, detached, start, end);
      freePgtables(tlb, detached, prev ? prev.end : 0, next ? next.start : 0);
      this.unlinkFileVmas(mm, detached);
      tlb.tlbFinishMmu(start, end);
      this.addGather(res, tlb);
    }
  }

  /** unlink_file_vma for each file vma of `vmas` (free_pgtables does it, before tlb_finish_mmu). */
  private unlinkFileVmas(mm: Mm, vmas: readonly Vma[]): void {
    for (const v of vmas) {
      if (v.file === undefined) continue;
      const fc = this.fileCache(v.file);
      fc.lockIMmap('write');
      fc.unlink(mm.asid, v);
      fc.unlockIMmap('write');
    }
  }

  /** madvise(MADV_DONTNEED): zap_page_range for each vma; the page tables stay. */
  madviseDontneed(mm: Mm, start: number, end: number): SyscallResult {
    const res = this.enter(syscallCode('madvise(DONTNEED)'), start, 'madvise(DONTNEED)');
    this.mmapLock(mm, 'read');
    try {
      const vmas = mm.overlapping(start, end);
      for (const v of vmas) if (v.huge || v.pfnmap) throw new KernelError('EINVAL', `madvise(DONTNEED) on a ${v.huge ? 'hugetlb' : 'pfnmap'} vma`);
      for (const v of vmas) {
        const s = Math.max(start, v.start);
        const e = Math.min(end, v.end);
        const tlb = this.gather(mm, false, syscallCode('madvise(DONTNEED)'));
        res.ptes += unmapVmas(tlb, [v], s, e);
        tlb.tlbFinishMmu(s, e);
        this.addGather(res, tlb);
        res.removed.push({ start: s, end: e });
      }
    } finally {
      this.mmapUnlock(mm, 'read');
      this.leave();
    }
    return res;
  }

  /**
   * fs/exec.c shift_arg_pages(vma, shift): grow the vma down to cover
   * [new_start, old_end), move its PTEs down by `shift`, free the page
   * tables of the vacated part in a gather without start_vma/end_vma or
   * remove_tlb_entry, then shrink the vma to [new_start, new_end).
   */
  shiftArgPages(mm: Mm, vma: Vma, shift: number): SyscallResult {
    const oldStart = vma.start;
    const oldEnd = vma.end;
    const len = oldEnd - oldStart;
    const newStart = oldStart - shift;
    const newEnd = oldEnd - shift;
    if (!(shift > 0) || newStart < 0) throw new KernelError('EINVAL', `bad shift ${shift}`);
    const res = this.enter(syscallCode('shift_arg_pages'), newStart, 'shift_arg_pages');
    // setup_arg_pages holds mmap_lock for write around shift_arg_pages.
    this.mmapLock(mm, 'write');
    try {
      if (mm.findVma(newStart)?.start !== oldStart) throw new KernelError('EFAULT', `[${newStart}, ${oldStart}) is not free below the stack`);
      const grown = mm.adjust(vma, newStart, oldEnd); // vma_adjust: cover [new_start, old_end)
      const move = movePageTables(this.cpu, mm, grown, oldStart, newStart, len, syscallCode('shift_arg_pages'), { flush: this.policy.moveFlush, allocTable: this.tableAlloc, lazy: this.policy.lazyTlb });
      res.ptes = move.moved;
      res.otherFlushes.push(...move.flushes);
      res.trace.push(...move.flushes);
      const next = mm.next(grown);
      const tlb = this.gather(mm, false, syscallCode('shift_arg_pages'));
      // Overlapping regions: clear from new_end; otherwise from old_start (ia64 constraint).
      freePgdRange(tlb, newEnd > oldStart ? newEnd : oldStart, oldEnd, newEnd, next ? next.start : 0);
      tlb.tlbFinishMmu(newEnd, oldEnd);
      this.addGather(res, tlb);
      mm.adjust(grown, newStart, newEnd); // vma_adjust: shrink to [new_start, new_end)
      res.removed = [{ start: newEnd, end: oldEnd }];
    } finally {
      this.mmapUnlock(mm, 'write');
      this.leave();
    }
    return res;
  }

  /**
   * khugepaged collapsing the PTE table that maps `vpn` into a huge page
   * (collapse.ts), under mmap_lock held for write as collapse_huge_page
   * takes it. The table's span must lie inside one anonymous vma
   * (hugepage_vma_revalidate). result.removed is the span: the old pages'
   * translations must be gone when it returns (the new ones were mapped
   * during the call, which the check skips).
   */
  collapse(mm: Mm, vpn: number): SyscallResult {
    if (!this.policy.collapseSync) throw new KernelError('EINVAL', `policy ${this.policy.name} has no khugepaged in this model (its architectures had no transparent huge pages)`);
    const W = this.cpu.L.W;
    const start = vpn - (vpn % W);
    const res = this.enter(syscallCode('khugepaged'), start, 'khugepaged');
    this.mmapLock(mm, 'write');
    try {
      const vma = mm.findVma(start);
      if (!vma || vma.start > start || vma.end < start + W) throw new KernelError('EINVAL', `[${start}, ${start + W}) is not inside one vma`);
      if (vma.huge || vma.pfnmap) throw new KernelError('EINVAL', `khugepaged does not collapse a ${vma.huge ? 'hugetlb' : 'pfnmap'} vma`);
      const c = collapseHugePage(this.cpu, mm, vma, start, this.policy, syscallCode('khugepaged'), this.tableAlloc);
      res.ptes = c.copied;
      res.otherFlushes.push(...c.flushes);
      res.trace.push(...c.flushes, ...c.syncs);
      res.stats.syncIpis += c.syncs.length;
      res.removed = c.copied ? [{ start, end: start + W }] : [];
    } finally {
      this.mmapUnlock(mm, 'write');
      this.leave();
    }
    return res;
  }

  /** exit_mmap: fullmm gather over everything, then the pgd (unless freePgd is false). */
  exitMmap(mm: Mm, opts: { freePgd?: boolean } = {}): SyscallResult {
    const res = this.enter(syscallCode('exit_mmap'), 0, 'exit_mmap');
    // 2.6-era exit_mmap took no lock (no other user was left); 6.x takes it for write. Taken here in every era.
    this.mmapLock(mm, 'write');
    try {
      const vmas = mm.vmas;
      const tlb = this.gather(mm, true, syscallCode('exit_mmap'));
      res.ptes = unmapVmas(tlb, vmas, 0, this.cpu.L.vpnLimit);
      freePgtables(tlb, vmas, 0, 0);
      this.unlinkFileVmas(mm, vmas);
      tlb.tlbFinishMmu(0, this.cpu.L.vpnLimit);
      this.addGather(res, tlb);
      mm.clear();
      mm.users = 0;
    } finally {
      this.mmapUnlock(mm, 'write');
    }
    if (opts.freePgd ?? true) {
      // mm_free_pgd. The caller must have switched every other CPU away
      // (the kernel's mm_count keeps the pgd until lazy users let go).
      const op = kernelOp(syscallCode('exit_mmap'), Step.FREE_PGD);
      this.cpu.setKernelOp(op, mm.asid);
      this.cpu.pt.destroySpace(mm.asid, this.cpu.id, op);
      this.mms.delete(mm.asid);
    }
    res.removed = [{ start: 0, end: this.cpu.L.vpnLimit }];
    this.leave();
    return res;
  }

  /** mremap(start, pages, MREMAP_MAYMOVE | MREMAP_FIXED, newStart): move_vma (mremap.ts). */
  mremap(mm: Mm, a: MremapArgs): SyscallResult {
    return mremap(this, mm, a);
  }

  /** truncate(file, pages): truncate_setsize → truncate_pagecache (truncate.ts). */
  truncate(file: number, pages: number): SyscallResult {
    return truncate(this, file, pages);
  }

  // ------------------------------------------------------------- helpers
  // Public for the system calls written in their own files (mremap.ts,
  // truncate.ts); not for callers outside the kernel model.

  /** Syscall entry: name it, take the entry sequence, and start the result of `name`. */
  enter(syscall: number, arg: number, name = ''): SyscallResult {
    this.cpu.setKernelOp(kernelOp(syscall, Step.NONE), arg);
    const entrySeq = Atomics.add(this.cpu.i32, H.KSEQ, 1) + 1;
    return { syscall: name, code: syscall, gathers: [], otherFlushes: [], trace: [], stats: emptyStats(), ptes: 0, removed: [], entrySeq };
  }
  leave(): void {
    this.cpu.setKernelOp(0, 0);
  }
  /** mmap_read_lock / mmap_write_lock, then the mmap_lock point (in the call in flight). */
  mmapLock(mm: Mm, mode: 'read' | 'write'): void {
    const at = mmapLockWord(this.cpu.L, mm.asid);
    if (mode === 'read') readLock(this.cpu, at);
    else writeLock(this.cpu, at);
    const op = this.cpu.kernelOp();
    this.cpu.setKernelOp(kernelOp(op >>> 8, Step.MMAP_LOCK), mm.asid);
  }
  mmapUnlock(mm: Mm, mode: 'read' | 'write'): void {
    const at = mmapLockWord(this.cpu.L, mm.asid);
    if (mode === 'read') readUnlock(this.cpu, at);
    else writeUnlock(this.cpu, at);
  }
  addGather(res: SyscallResult, tlb: MmuGather): void {
    res.gathers.push({ fullmm: tlb.fullmm, trace: tlb.trace, stats: tlb.stats });
    res.trace.push(...tlb.trace);
    addStats(res.stats, tlb.stats);
  }
}
