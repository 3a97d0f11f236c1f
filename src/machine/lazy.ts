import { C, type Layout } from './layout.js';

/**
 * Lazy TLB mode: a CPU that switches to a kernel thread (the idle task, a
 * kworker) keeps the user mm it ran last loaded, its translation caches
 * included, instead of switching to init_mm (x86: enter_lazy_tlb sets
 * cpu_tlbstate.is_lazy; arch/x86/mm/tlb.c). Its hardware can still walk that
 * mm's tables speculatively, and fill TLB and walk-cache entries from them.
 *
 * Whether a flush skips such a CPU is the kernel's choice (the x86 policies
 * ask `skipLazy`); what the CPU does when a flush IPI reaches it in lazy mode
 * is the kernel's too (x86 leaves the mm: Cpu, Which.LAZY_LEAVE). This file
 * is the protocol between the two sides, one word per CPU (C.LAZY):
 *
 *   ACTIVE       not lazy: flushes reach it as ever
 *   LAZY         lazy, no flush skipped it yet
 *   MISSED       lazy, and at least one flush skipped it: its caches may hold
 *                translations the kernel has removed; it must flush them all
 *                before it uses the mm again
 *   CATCHING_UP  leaving lazy mode after a MISSED: flushing its caches
 *
 * The kernel does this with generations (mm->context.tlb_gen, bumped before
 * every flush, and the CPU's own tlb_gen, compared in switch_mm_irqs_off when
 * it leaves lazy mode); the model keeps one "missed" state per CPU instead,
 * set by the initiator with a compare-and-swap. Why it is exact: an initiator
 * clears the page-table entries, then marks each lazy CPU it skips (LAZY →
 * MISSED); a CPU leaving lazy mode swaps its state first (LAZY → ACTIVE, or
 * MISSED → CATCHING_UP and then flushes). The two are linearised on the one
 * word: either the initiator's mark comes first, and the leaving CPU flushes
 * after the entries were cleared; or the CPU's swap comes first, and the
 * initiator sees ACTIVE or CATCHING_UP and sends the IPI, which the CPU takes
 * once its switch is done. No translation the kernel removed survives into
 * the CPU's next user access.
 */
export const Lazy = { ACTIVE: 0, LAZY: 1, MISSED: 2, CATCHING_UP: 3 } as const;

/**
 * The CPUs of `mask` that a flush must still IPI: the lazy ones are left out
 * and marked MISSED (native_flush_tlb_others skipping !tlb_is_not_lazy CPUs).
 * Returns the reduced mask.
 */
export function skipLazy(i32: Int32Array, L: Layout, mask: number): number {
  let out = mask;
  for (let c = 0; c < L.cfg.cpus; c++) {
    if (!(mask & (1 << c))) continue;
    const at = L.cpu(c, C.LAZY);
    for (;;) {
      const v = Atomics.load(i32, at);
      if (v === Lazy.MISSED) {
        out &= ~(1 << c);
        break;
      }
      if (v !== Lazy.LAZY) break;
      if (Atomics.compareExchange(i32, at, Lazy.LAZY, Lazy.MISSED) === Lazy.LAZY) {
        out &= ~(1 << c);
        break;
      }
    }
  }
  return out;
}

/** The CPUs of `mask` in lazy mode now (LAZY or MISSED): whom 4.19-rc1's table-free IPI went to. */
export function lazyCpus(i32: Int32Array, L: Layout, mask: number): number {
  let out = 0;
  for (let c = 0; c < L.cfg.cpus; c++) {
    if (!(mask & (1 << c))) continue;
    const v = Atomics.load(i32, L.cpu(c, C.LAZY));
    if (v === Lazy.LAZY || v === Lazy.MISSED) out |= 1 << c;
  }
  return out;
}

/**
 * Whether CPU c's caches are exempt from "no stale translation after
 * return": a lazy CPU that a flush skipped (MISSED), or one flushing on its
 * way out (CATCHING_UP), flushes everything before it uses the mm again, so
 * what its caches still hold is not a translation anyone can use.
 */
export function catchingUp(i32: Int32Array, L: Layout, c: number): boolean {
  const v = Atomics.load(i32, L.cpu(c, C.LAZY));
  return v === Lazy.MISSED || v === Lazy.CATCHING_UP;
}
