import { FrameKind, Pte } from '../machine/constants.js';
import type { Cpu } from '../machine/cpu.js';
import { type FlushEvent, type GatherStats, type TraceEvent, addStats, emptyStats } from './gather-trace.js';
import { freePgdRange, freePgtables, movePageTables, unmapVmas } from './memory.js';
import { type FlushPendingCounter, Mm, type Vma, type VmaFlags } from './mm.js';
import { type GatherOptions, MmuGather } from './mmu-gather.js';
import { Step, syscallCode, kernelOp } from './ops.js';
import { type PolicyOptions, type TlbPolicy, createPolicy } from './policies/index.js';
import { Quicklist } from './quicklist.js';
import type { TableAlloc } from '../machine/pagetable.js';

/**
 * The system calls the coordinator CPU runs (it plays the task holding the
 * mmap lock for writing; other CPUs only run user code). Each names itself and
 * its steps with Cpu.setKernelOp as it goes, and clears the op on return.
 *
 *   mmap + faultIn      create a vma; allocate and map its frames
 *   munmap              do_munmap → unmap_region: gather; per vma start_vma,
 *                       zap, end_vma; free_pgtables; tlb_finish_mmu
 *   madviseDontneed     zap_page_range per vma: a gather each, no table frees
 *   shiftArgPages       exec: move_page_tables down, then free_pgd_range of
 *                       the vacated range in a gather with NO start_vma,
 *                       end_vma or remove_tlb_entry
 *   exitMmap            fullmm gather: zap all, free all tables, finish; then
 *                       free the pgd
 *
 * After a call that removed a range, result.removed names it for
 * staleAfterReturn (domain.md section 6).
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
  gathers: GatherReport[];
  /** Flushes made outside any gather (move_page_tables). */
  otherFlushes: FlushEvent[];
  /** Every event of the call in order (other flushes and gathers, as they happened). */
  trace: TraceEvent[];
  /** The gathers' stats summed; flushes outside gathers are in otherFlushes only. */
  stats: GatherStats;
  /** PTEs cleared (zap) or moved (shift_arg_pages). */
  ptes: number;
  /** The range no CPU may translate once the call has returned, or null. */
  removed: { start: number; end: number } | null;
}

export class Kernel {
  readonly cpu: Cpu;
  readonly policy: TlbPolicy;
  readonly mms = new Map<number, Mm>();
  /** This CPU's page-table quicklist, when the policy's architecture has one (pgalloc.h). */
  readonly quicklist: Quicklist | null;
  /** Where this CPU's page-table allocations come from: the quicklist first, if any. */
  private readonly tableAlloc: TableAlloc | undefined;
  private readonly gatherOpts: Omit<GatherOptions, 'syscall'>;

  constructor(cpu: Cpu, opts: KernelOptions) {
    this.cpu = cpu;
    this.policy = typeof opts.policy === 'string' ? createPolicy(opts.policy, opts.policyOptions) : opts.policy;
    const q = this.policy.quicklist ? new Quicklist(cpu, this.policy.quicklist) : null;
    this.quicklist = q;
    this.tableAlloc = q ? (kind, owner) => q.allocTable(kind, owner) : undefined;
    this.gatherOpts = { batchCapacity: opts.batchCapacity, tableBatchCapacity: opts.tableBatchCapacity, onTrace: opts.onTrace, quicklist: q };
  }

  /** A new mm with an empty pgd in machine slot `asid`. */
  createMm(asid: number, pending?: FlushPendingCounter): Mm {
    const mm = Mm.create(this.cpu, asid, pending);
    this.mms.set(asid, mm);
    return mm;
  }

  /**
   * Register an Mm for an address space another CPU's Kernel created (the
   * space must be live), with copies of its vmas: for a second CPU running
   * syscalls on the same mm concurrently (e.g. parallel madvise). Share
   * tlb_flush_pending between them with a SharedCounter.
   */
  attachMm(asid: number, vmas: readonly Vma[], pending?: FlushPendingCounter): Mm {
    if (!this.cpu.pt.isLive(asid)) throw new Error(`address space ${asid} does not exist`);
    const mm = new Mm(asid, pending);
    for (const v of vmas) mm.insert({ ...v });
    this.mms.set(asid, mm);
    return mm;
  }

  mm(asid: number): Mm {
    const mm = this.mms.get(asid);
    if (!mm) throw new Error(`no mm for address space ${asid}`);
    return mm;
  }

  /** tlb_gather_mmu on behalf of `syscall` (for callers composing their own sequences). */
  gather(mm: Mm, fullmm: boolean, syscall: number = syscallCode('none')): MmuGather {
    return new MmuGather(this.cpu, mm, fullmm, this.policy, { ...this.gatherOpts, syscall }).begin();
  }

  /** mmap(MAP_FIXED-less): a new vma [start, start + pages); throws EINVAL if it overlaps. */
  mmap(mm: Mm, start: number, pages: number, flags: VmaFlags = {}): Vma {
    const end = start + pages;
    if (!(pages > 0) || start < 0 || end > this.cpu.L.vpnLimit) throw new KernelError('EINVAL', `bad range [${start}, ${end})`);
    if (mm.overlapping(start, end).length) throw new KernelError('EINVAL', `[${start}, ${end}) overlaps a mapping`);
    this.enter(syscallCode('mmap'), start);
    const vma: Vma = { start, end, exec: !!flags.exec, write: flags.write ?? !flags.exec, huge: !!flags.huge, pfnmap: !!flags.pfnmap };
    mm.insert(vma);
    this.leave();
    return vma;
  }

  /**
   * Fault in every unmapped page of [start, end) that lies in a vma: a fresh
   * data frame (owned by the mm; by nobody for VM_PFNMAP, whose frames zap
   * never frees), mapped with the vma's write/exec. Returns pages mapped.
   */
  faultIn(mm: Mm, start: number, end: number): number {
    const { pt, alloc } = this.cpu;
    let n = 0;
    for (const vma of mm.overlapping(start, end)) {
      const flags = (vma.write ? Pte.WRITE : 0) | (vma.exec ? Pte.EXEC : 0);
      for (let vpn = Math.max(start, vma.start); vpn < Math.min(end, vma.end); vpn++) {
        this.cpu.setKernelOp(kernelOp(syscallCode('fault'), Step.FAULT_IN), vpn);
        if (pt.pte(mm.asid, vpn) & Pte.PRESENT) continue;
        const f = alloc.alloc(FrameKind.DATA, vma.pfnmap ? -1 : mm.asid);
        if (f < 0 || !pt.map(mm.asid, vpn, f, flags, this.tableAlloc)) throw new KernelError('ENOMEM', `out of frames faulting in vpn ${vpn}`);
        n++;
      }
    }
    this.leave();
    return n;
  }

  /** munmap(start, end): do_munmap → unmap_region. */
  munmap(mm: Mm, start: number, end: number): SyscallResult {
    this.enter(syscallCode('munmap'), start);
    const res = this.result('munmap');
    const { detached, prev, next } = mm.detach(start, end);
    if (detached.length) {
      const tlb = this.gather(mm, false, syscallCode('munmap'));
      res.ptes = unmapVmas(tlb, detached, start, end);
      freePgtables(tlb, detached, prev ? prev.end : 0, next ? next.start : 0);
      tlb.tlbFinishMmu(start, end);
      this.addGather(res, tlb);
    }
    res.removed = { start, end };
    this.leave();
    return res;
  }

  /** madvise(MADV_DONTNEED): zap_page_range for each vma; the page tables stay. */
  madviseDontneed(mm: Mm, start: number, end: number): SyscallResult {
    const vmas = mm.overlapping(start, end);
    for (const v of vmas) if (v.huge || v.pfnmap) throw new KernelError('EINVAL', `madvise(DONTNEED) on a ${v.huge ? 'hugetlb' : 'pfnmap'} vma`);
    this.enter(syscallCode('madvise(DONTNEED)'), start);
    const res = this.result('madvise(DONTNEED)');
    for (const v of vmas) {
      const s = Math.max(start, v.start);
      const e = Math.min(end, v.end);
      const tlb = this.gather(mm, false, syscallCode('madvise(DONTNEED)'));
      res.ptes += unmapVmas(tlb, [v], s, e);
      tlb.tlbFinishMmu(s, e);
      this.addGather(res, tlb);
    }
    res.removed = { start, end };
    this.leave();
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
    if (mm.findVma(newStart) !== vma) throw new KernelError('EFAULT', `[${newStart}, ${oldStart}) is not free below the stack`);
    this.enter(syscallCode('shift_arg_pages'), newStart);
    const res = this.result('shift_arg_pages');
    vma.start = newStart; // vma_adjust: cover [new_start, old_end)
    const move = movePageTables(this.cpu, mm, vma, oldStart, newStart, len, syscallCode('shift_arg_pages'), { flush: this.policy.moveFlush, allocTable: this.tableAlloc });
    res.ptes = move.moved;
    res.otherFlushes.push(...move.flushes);
    res.trace.push(...move.flushes);
    const next = mm.next(vma);
    const tlb = this.gather(mm, false, syscallCode('shift_arg_pages'));
    // Overlapping regions: clear from new_end; otherwise from old_start (ia64 constraint).
    freePgdRange(tlb, newEnd > oldStart ? newEnd : oldStart, oldEnd, newEnd, next ? next.start : 0);
    tlb.tlbFinishMmu(newEnd, oldEnd);
    this.addGather(res, tlb);
    vma.end = newEnd; // vma_adjust: shrink to [new_start, new_end)
    res.removed = { start: newEnd, end: oldEnd };
    this.leave();
    return res;
  }

  /** exit_mmap: fullmm gather over everything, then the pgd (unless freePgd is false). */
  exitMmap(mm: Mm, opts: { freePgd?: boolean } = {}): SyscallResult {
    this.enter(syscallCode('exit_mmap'), 0);
    const res = this.result('exit_mmap');
    const vmas = mm.vmas.slice();
    const tlb = this.gather(mm, true, syscallCode('exit_mmap'));
    res.ptes = unmapVmas(tlb, vmas, 0, this.cpu.L.vpnLimit);
    freePgtables(tlb, vmas, 0, 0);
    tlb.tlbFinishMmu(0, this.cpu.L.vpnLimit);
    this.addGather(res, tlb);
    mm.vmas.length = 0;
    mm.users = 0;
    if (opts.freePgd ?? true) {
      // mm_free_pgd. The caller must have switched every other CPU away
      // (the kernel's mm_count keeps the pgd until lazy users let go).
      const op = kernelOp(syscallCode('exit_mmap'), Step.FREE_PGD);
      this.cpu.setKernelOp(op, mm.asid);
      this.cpu.pt.destroySpace(mm.asid, this.cpu.id, op);
      this.mms.delete(mm.asid);
    }
    res.removed = { start: 0, end: this.cpu.L.vpnLimit };
    this.leave();
    return res;
  }

  // ------------------------------------------------------------- helpers

  private enter(syscall: number, arg: number): void {
    this.cpu.setKernelOp(kernelOp(syscall, Step.NONE), arg);
  }
  private leave(): void {
    this.cpu.setKernelOp(0, 0);
  }
  private result(name: string): SyscallResult {
    return { syscall: name, gathers: [], otherFlushes: [], trace: [], stats: emptyStats(), ptes: 0, removed: null };
  }
  private addGather(res: SyscallResult, tlb: MmuGather): void {
    res.gathers.push({ fullmm: tlb.fullmm, trace: tlb.trace, stats: tlb.stats });
    res.trace.push(...tlb.trace);
    addStats(res.stats, tlb.stats);
  }
}
