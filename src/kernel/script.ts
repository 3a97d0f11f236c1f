import { H } from '../machine/layout.js';
import type { Machine } from '../machine/machine.js';
import { type FlushPendingCounter, SharedCounter, type Vma } from './mm.js';
import type { GatherStats, TraceEvent } from './gather_trace.js';
import { type StaleEntry, recordStaleAfterReturn, staleAfterReturn } from './stale.js';
import type { Kernel, SyscallResult } from './syscalls.js';

/**
 * A coordinator's kernel script: plain, structured-cloneable commands a
 * harness can send to the coordinator CPU's worker, run in order by one
 * Kernel (which keeps the Mm objects between commands).
 */
export type KernelCommand =
  /** pendingWord: a machine scratch word (0..H.SCRATCH_WORDS-1) holding tlb_flush_pending, to share it between CPUs. */
  | { op: 'createMm'; asid: number; pendingWord?: number }
  /** An mm another CPU created, with its vmas (see Kernel.attachMm). */
  | { op: 'attachMm'; asid: number; vmas: Vma[]; pendingWord?: number }
  | { op: 'mmap'; asid: number; start: number; pages: number; exec?: boolean; write?: boolean; huge?: boolean; pfnmap?: boolean; fault?: boolean }
  | { op: 'fault'; asid: number; start: number; end: number }
  | { op: 'switchMm'; asid: number }
  | { op: 'munmap'; asid: number; start: number; end: number }
  | { op: 'madvise'; asid: number; start: number; end: number }
  /** The vma starting at vmaStart (the stack) moves down by `shift` pages. */
  | { op: 'shiftArgPages'; asid: number; vmaStart: number; shift: number }
  | { op: 'exitMmap'; asid: number; freePgd?: boolean };

export interface KernelCommandResult {
  op: KernelCommand['op'];
  /** mmap/fault: pages mapped; removing calls: PTEs cleared or moved. */
  pages: number;
  stats?: GatherStats;
  trace?: TraceEvent[];
  /** Removing calls, when checkStale: TLB entries of the removed range left after return. */
  stale?: StaleEntry[];
}

export interface ScriptOptions {
  /** After each removing call, list stale TLB entries of its range (default true). */
  checkStale?: boolean;
  /** Also write them to the machine's violation log as STALE_AFTER_RETURN (default true). */
  recordStale?: boolean;
  /** Keep the full trace in the results (default false: stats only). */
  keepTrace?: boolean;
}

export function runKernelScript(kernel: Kernel, machine: Machine, script: readonly KernelCommand[], opts: ScriptOptions = {}): KernelCommandResult[] {
  const out: KernelCommandResult[] = [];
  const pending = (word: number | undefined): FlushPendingCounter | undefined => {
    if (word === undefined) return undefined;
    if (!Number.isInteger(word) || word < 0 || word >= H.SCRATCH_WORDS) throw new Error(`pendingWord ${word} is not a scratch word`);
    return new SharedCounter(machine.i32, H.SCRATCH + word);
  };
  const finishRemoval = (cmd: KernelCommand, asid: number, r: SyscallResult): void => {
    const res: KernelCommandResult = { op: cmd.op, pages: r.ptes, stats: r.stats };
    if (opts.keepTrace) res.trace = r.trace;
    if ((opts.checkStale ?? true) && r.removed) {
      res.stale = staleAfterReturn(machine, asid, r.removed.start, r.removed.end);
      if ((opts.recordStale ?? true) && res.stale.length) recordStaleAfterReturn(machine, res.stale, kernel.cpu.step);
    }
    out.push(res);
  };
  for (const cmd of script) {
    switch (cmd.op) {
      case 'createMm':
        kernel.createMm(cmd.asid, pending(cmd.pendingWord));
        out.push({ op: cmd.op, pages: 0 });
        break;
      case 'attachMm':
        kernel.attachMm(cmd.asid, cmd.vmas, pending(cmd.pendingWord));
        out.push({ op: cmd.op, pages: 0 });
        break;
      case 'mmap': {
        const mm = kernel.mm(cmd.asid);
        kernel.mmap(mm, cmd.start, cmd.pages, cmd);
        const n = cmd.fault === false ? 0 : kernel.faultIn(mm, cmd.start, cmd.start + cmd.pages);
        out.push({ op: cmd.op, pages: n });
        break;
      }
      case 'fault':
        out.push({ op: cmd.op, pages: kernel.faultIn(kernel.mm(cmd.asid), cmd.start, cmd.end) });
        break;
      case 'switchMm':
        kernel.cpu.switchMm(cmd.asid);
        out.push({ op: cmd.op, pages: 0 });
        break;
      case 'munmap':
        finishRemoval(cmd, cmd.asid, kernel.munmap(kernel.mm(cmd.asid), cmd.start, cmd.end));
        break;
      case 'madvise':
        finishRemoval(cmd, cmd.asid, kernel.madviseDontneed(kernel.mm(cmd.asid), cmd.start, cmd.end));
        break;
      case 'shiftArgPages': {
        const mm = kernel.mm(cmd.asid);
        const vma = mm.vmaAt(cmd.vmaStart);
        if (!vma || vma.start !== cmd.vmaStart) throw new Error(`no vma starts at ${cmd.vmaStart} in address space ${cmd.asid}`);
        finishRemoval(cmd, cmd.asid, kernel.shiftArgPages(mm, vma, cmd.shift));
        break;
      }
      case 'exitMmap':
        finishRemoval(cmd, cmd.asid, kernel.exitMmap(kernel.mm(cmd.asid), { freePgd: cmd.freePgd }));
        break;
    }
  }
  return out;
}
