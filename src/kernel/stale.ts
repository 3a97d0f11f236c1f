import { frameIsCurrent, recordViolation } from '../machine/checker.js';
import { CpuOp, FrameKind, PTE_FRAME_MASK, ViolationKind, tableKindOfLevel } from '../machine/constants.js';
import { F } from '../machine/layout.js';
import { catchingUp } from '../machine/lazy.js';
import type { Machine } from '../machine/machine.js';

/**
 * "No stale translation after return" (docs/domain.md section 6): once a syscall
 * that removed [start, end) has returned, no CPU's TLB may still translate
 * an address of the range. Read with machine.caches(cpu) from any thread;
 * with the machine's flush semantics a correct policy leaves nothing here
 * (a fill racing the invalidation is dropped inside the filling instruction,
 * which the flush waited for).
 */

export interface StaleEntry {
  cpu: number;
  cache: 'dtlb' | 'itlb' | 'walk';
  asid: number;
  vpn: number;
  /** TLB: the cached PTE; walk cache: the table frame. */
  value: number;
  /** Generation of the frame when the entry was filled. */
  gen: number;
  /** Walk cache only: 1 (→ PTE table) or 2 (→ PMD table). */
  level?: number;
}

/**
 * TLB (D and I) entries of `asid` for a vpn in [start, end), on every CPU,
 * that a call entered at kernel sequence `entrySeq` promised to remove.
 *
 * With kernel code on several CPUs, another CPU may fault a page of the
 * range in after the call zapped it, and a third CPU may use it: that
 * mapping is not the call's to remove. So an entry whose frame is still the
 * allocation it was filled for (same generation) and was mapped after the
 * call began (F.MAP_SEQ > entrySeq) is skipped. An entry whose frame was
 * freed since it was filled is always reported: under a correct policy no
 * frame is freed while a TLB still holds it, except a TLB of a CPU in lazy
 * TLB mode that the flush skipped, which no access uses before that CPU
 * flushes it (kernel/lazy-tlb.ts); such a CPU is left out.
 */
export function staleAfterReturn(machine: Machine, asid: number, start: number, end: number, entrySeq = Infinity): StaleEntry[] {
  const out: StaleEntry[] = [];
  const i32 = machine.i32;
  const L = machine.layout;
  for (let c = 0; c < machine.config.cpus; c++) {
    // A lazy CPU that a flush skipped flushes everything before it uses the mm again
    // (machine/lazy.ts). Its state is read before its caches: one that has caught up
    // since holds nothing of the range.
    if (catchingUp(i32, L, c)) continue;
    for (const e of machine.caches(c)) {
      if (e.cache === 'walk' || e.asid !== asid || e.vpn < start || e.vpn >= end) continue;
      const f = e.value & PTE_FRAME_MASK;
      if (frameIsCurrent(i32, L, f, e.gen, FrameKind.DATA) && Atomics.load(i32, L.frame(f, F.MAP_SEQ)) > entrySeq) continue;
      out.push({ cpu: c, cache: e.cache, asid, vpn: e.vpn, value: e.value, gen: e.gen });
    }
  }
  return out;
}

/**
 * Walk-cache entries of `asid` (every CPU) that point at a table frame which
 * has since been freed or reallocated: a walk through one of them would read
 * a freed table. Not a violation by itself (no walker has used it yet), but
 * after a syscall that freed tables a correct policy leaves none.
 */
export function staleTablePointers(machine: Machine, asid: number): StaleEntry[] {
  const i32 = machine.i32;
  const L = machine.layout;
  const out: StaleEntry[] = [];
  for (let c = 0; c < machine.config.cpus; c++) {
    for (const e of machine.caches(c)) {
      if (e.cache !== 'walk' || e.asid !== asid) continue;
      const f = e.value;
      if (!frameIsCurrent(i32, L, f, e.gen, tableKindOfLevel(e.level ?? 1))) out.push({ cpu: c, cache: 'walk', asid, vpn: e.vpn, value: f, gen: e.gen, level: e.level });
    }
  }
  return out;
}

/**
 * Record each stale TLB entry as a STALE_AFTER_RETURN violation in the
 * machine's log (as seen by the entry's CPU), so reports list them with the
 * races. `step` is the reporting CPU's step count, for ordering; `call` the
 * CPU whose system call returned and the call's kernel op code.
 */
export function recordStaleAfterReturn(machine: Machine, entries: readonly StaleEntry[], step = 0, call?: { cpu: number; op: number }): void {
  for (const e of entries) {
    if (e.cache === 'walk') continue;
    recordViolation(machine.i32, machine.layout, {
      kind: ViolationKind.STALE_AFTER_RETURN,
      cpu: e.cpu,
      vpn: e.vpn,
      frame: e.value & PTE_FRAME_MASK,
      genFill: e.gen,
      ownerBefore: e.asid,
      cpuOp: CpuOp.KERNEL,
      step,
      level: 0,
      call,
    });
  }
}

/** Whether a data frame is still the allocation a TLB entry was filled for. */
export function entryIsCurrent(machine: Machine, e: StaleEntry): boolean {
  return frameIsCurrent(machine.i32, machine.layout, e.value & PTE_FRAME_MASK, e.gen, FrameKind.DATA);
}
