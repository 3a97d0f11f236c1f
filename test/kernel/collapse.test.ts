import { describe, expect, it } from 'vitest';
import { FrameKind, PTE_FRAME_MASK, Pte } from '../../src/machine/constants.js';
import { F } from '../../src/machine/layout.js';
import { KernelError } from '../../src/kernel/syscalls.js';
import { setup } from './helpers.js';

/** khugepaged's collapse (kernel/collapse.ts), single-threaded; 16-entry PTE tables. */
describe('khugepaged collapse', () => {
  const W = 16;

  function mapped(policy: string, opts: Record<string, string> = {}) {
    const f = setup(policy, { policyOptions: opts }, { cpus: 1 });
    f.cpu0.switchMm(0);
    f.kernel.mmap(f.mm, 32, W, { write: true });
    f.kernel.faultIn(f.mm, 32, 32 + W - 4); // the last 4 pages stay unmapped
    return f;
  }

  it('replaces the PTE table and the pages of the span, frees the old ones, and keeps contents and permissions', () => {
    const f = mapped('linux-6');
    const { pt } = f.cpu0;
    const L = f.machine.layout;
    const oldTable = pt.table(0, 32, 1);
    const oldPages = Array.from({ length: W - 4 }, (_, i) => pt.pte(0, 32 + i) & PTE_FRAME_MASK);
    oldPages.forEach((p, i) => (f.machine.i32[L.word(p, 3)] = 1000 + i));
    const res = f.kernel.collapse(f.mm, 37);
    expect(res.ptes).toBe(W - 4);
    expect(res.removed).toEqual([{ start: 32, end: 32 + W }]);
    const newTable = pt.table(0, 32, 1);
    expect(newTable).not.toBe(oldTable);
    // The old table and pages are free; the new pages hold the same words, writable as before.
    expect(Atomics.load(f.machine.i32, L.frame(oldTable, F.KIND))).toBe(FrameKind.FREE);
    for (const p of oldPages) expect(Atomics.load(f.machine.i32, L.frame(p, F.KIND))).toBe(FrameKind.FREE);
    for (let i = 0; i < W; i++) {
      const pte = pt.pte(0, 32 + i);
      if (i >= W - 4) {
        expect(pte & Pte.PRESENT).toBe(0);
        continue;
      }
      expect(pte & (Pte.PRESENT | Pte.WRITE)).toBe(Pte.PRESENT | Pte.WRITE);
      expect(f.machine.i32[L.word(pte & PTE_FRAME_MASK, 3)]).toBe(1000 + i);
    }
    // One flush of the span (walk caches named), and the synchronising IPI of 2ba99c5e0881 (to nobody: CPU 0 alone runs the mm).
    expect(res.otherFlushes).toEqual([expect.objectContaining({ start: 32, end: 32 + W, by: 'pmdp_collapse_flush' })]);
    expect(res.stats.syncIpis).toBe(1);
    expect(f.cpu0.count('syncIpisSent')).toBe(1);
  });

  it('sends no synchronising IPI with collapseSync=none, nor where tables are not freed through RCU', () => {
    for (const opts of [{ collapseSync: 'none' }, { tableFree: 'page-batch' }]) {
      const f = mapped('linux-6', opts);
      expect(f.kernel.collapse(f.mm, 32).stats.syncIpis, JSON.stringify(opts)).toBe(0);
      expect(f.cpu0.count('syncIpisSent')).toBe(0);
    }
  });

  it('does nothing for a span without a PTE table, and refuses a span outside one vma or on a 2011 policy', () => {
    const f = mapped('linux-6');
    f.kernel.mmap(f.mm, 64, W, { write: true }); // mapped, never faulted in: no PTE table
    expect(f.kernel.collapse(f.mm, 64).ptes).toBe(0);
    f.kernel.mmap(f.mm, 96, 8, { write: true });
    expect(() => f.kernel.collapse(f.mm, 96)).toThrow(KernelError);
    const old = mapped('arm-2.6.38');
    expect(() => old.kernel.collapse(old.mm, 32)).toThrow(/no khugepaged/);
  });
});
