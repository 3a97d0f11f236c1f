import { describe, expect, it } from 'vitest';
import { FrameKind, Which } from '../../src/machine/constants.js';
import type { Vma } from '../../src/kernel/mm.js';
import { Step, syscallCode, kernelOp, kernelOpName } from '../../src/kernel/ops.js';
import { canonicalPolicyName, createPolicy, isPolicyName, policyNames } from '../../src/kernel/policies/index.js';
import { seq, setup } from './helpers.js';

const VMA: Vma = { start: 16, end: 20, exec: false, write: true, huge: false, pfnmap: false };

/** munmap [16, 21) next to a vma at [0, 2), with a batch of 2 pages. */
function smallBatchMunmap(policy: string) {
  const f = setup(policy, { batchCapacity: 2 });
  f.cpu0.switchMm(0);
  f.kernel.mmap(f.mm, 0, 2);
  f.kernel.mmap(f.mm, 16, 5);
  f.kernel.faultIn(f.mm, 0, 21);
  return { f, r: f.kernel.munmap(f.mm, 16, 21) };
}

describe('batch full forces a flush before more is queued', () => {
  it('arm-2.6.38: each full batch is flushed over the range tracked so far, then freed', () => {
    const { r } = smallBatchMunmap('arm-2.6.38');
    expect(seq(r.trace)).toEqual([
      'flush 16-18 D', 'free data', 'free data',
      'flush 18-20 D', 'free data', 'free data',
      'flush 20-21 D', // tlb_end_vma
      'flush 16-17 D', 'free data', 'free pte-table', // the table fills the batch (__pte_free_tlb → tlb_remove_page)
    ]);
    const first = r.trace[0];
    expect(first.t === 'flush' && first.by).toBe('tlb_flush_mmu');
  });

  it('linux-6: tables go to their own batch; pages are flushed and freed per full batch', () => {
    const { r } = smallBatchMunmap('linux-6');
    expect(seq(r.trace)).toEqual([
      'flush 16-18 D', 'free data', 'free data',
      'flush 18-20 D', 'free data', 'free data',
      'flush 20-21 D',
      'flush 16-17 DW', 'sync', 'free pte-table', 'free data',
    ]);
  });

  it('generic-range: the flush that empties a full batch covers the table span queued in it', () => {
    const { r } = smallBatchMunmap('generic-range');
    expect(seq(r.trace)).toEqual([
      'flush 16-18 D', 'free data', 'free data',
      'flush 18-20 D', 'free data', 'free data',
      'flush 16-32 D', 'free data', 'free pte-table',
    ]);
  });

  it('ia64-2.6.38: full batches flush [start_addr, end_addr) and its VHPT range; tables go to the quicklist at once', () => {
    const { r } = smallBatchMunmap('ia64-2.6.38');
    expect(seq(r.trace)).toEqual([
      'flush 16-18 DI', 'flush 16-18 W', 'free data', 'free data',
      'flush 18-20 DI', 'flush 18-20 W', 'free data', 'free data',
      'park pte-table', 'flush 16-21 DI', 'flush 16-21 W', 'free data',
    ]);
  });
});

describe('need_flush and freed_tables', () => {
  function frames(f: ReturnType<typeof setup>, n: number, kind: number = FrameKind.DATA): number[] {
    return Array.from({ length: n }, () => f.cpu0.alloc.alloc(kind, 0));
  }

  it('generic-2011-series: end_vma flush clears need_flush, a table free sets it again, finish flushes the whole mm', () => {
    const f = setup('generic-2011-series');
    const [p] = frames(f, 1);
    const [t] = frames(f, 1, FrameKind.TABLE_PTE);
    const tlb = f.kernel.gather(f.mm, false);
    expect(tlb.needFlush).toBe(false);
    tlb.tlbStartVma(VMA);
    tlb.tlbRemoveTlbEntry(16);
    tlb.tlbRemovePage(p);
    expect(tlb.needFlush).toBe(true);
    tlb.tlbEndVma(VMA);
    expect(tlb.needFlush).toBe(false);
    expect(seq(tlb.trace)).toEqual(['flush 16-17 D']);
    tlb.pteFreeTlb(t, 16);
    expect(tlb.needFlush).toBe(true);
    tlb.tlbFinishMmu(16, 17);
    expect(seq(tlb.trace)).toEqual(['flush 16-17 D', 'flush mm', 'free data', 'free pte-table']);
  });

  it('generic-2011-series: madvise ends with the end_vma flush only', () => {
    const f = setup('generic-2011-series');
    f.kernel.mmap(f.mm, 16, 4);
    f.kernel.faultIn(f.mm, 16, 20);
    const r = f.kernel.madviseDontneed(f.mm, 16, 20);
    expect(seq(r.trace)).toEqual(['flush 16-20 D', 'free data', 'free data', 'free data', 'free data']);
    expect(f.cpu0.pt.table(0, 16, 1)).toBeGreaterThanOrEqual(0); // tables stay
  });

  it('linux-6: pte_free_tlb sets freed_tables and cleared_pmds, the flush names the walk cache, then resets', () => {
    const f = setup('linux-6');
    const [t] = frames(f, 1, FrameKind.TABLE_PTE);
    const [m] = frames(f, 1, FrameKind.TABLE_PMD);
    const tlb = f.kernel.gather(f.mm, false);
    tlb.pteFreeTlb(t, 32);
    expect([tlb.freedTables, tlb.clearedPtes, tlb.clearedPmds, tlb.clearedPuds]).toEqual([true, false, true, false]);
    expect([tlb.start, tlb.end]).toEqual([32, 33]);
    tlb.pmdFreeTlb(m, 256);
    expect(tlb.clearedPuds).toBe(true);
    tlb.tlbFlushMmu();
    expect(seq(tlb.trace)).toEqual(['flush 32-257 DW', 'sync', 'free pte-table', 'free pmd-table']);
    expect([tlb.freedTables, tlb.clearedPmds, tlb.clearedPuds, tlb.hasRange]).toEqual([false, false, false, false]);
    tlb.tlbFinishMmu(); // nothing pending: no flush
    expect(tlb.trace).toHaveLength(4);
  });

  it('linux-6: madvise flushes leaf entries only (no WALK), and the exec vma adds the I-TLB', () => {
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 16, 2, { exec: true });
    f.kernel.faultIn(f.mm, 16, 18);
    const r = f.kernel.madviseDontneed(f.mm, 16, 18);
    expect(seq(r.trace)).toEqual(['flush 16-18 DI', 'free data', 'free data']);
  });

  it('linux-6 with IPI flushes frees tables after the flush without a separate sync IPI', () => {
    const f = setup('linux-6', {}, { flush: 'ipi' });
    const [t] = frames(f, 1, FrameKind.TABLE_PTE);
    const tlb = f.kernel.gather(f.mm, false);
    tlb.pteFreeTlb(t, 32);
    tlb.tlbFinishMmu();
    expect(seq(tlb.trace)).toEqual(['flush 32-33 DW', 'free pte-table']);
  });

  it('generic-range: itlb "always" flushes I-TLBs for non-exec vmas, "vma-exec" only for exec ones', () => {
    for (const [itlb, exec, want] of [
      ['always', false, 'flush 16-17 DI'],
      ['vma-exec', false, 'flush 16-17 D'],
      ['vma-exec', true, 'flush 16-17 DI'],
    ] as const) {
      const f = setup('generic-range', { policyOptions: { itlb } });
      const [p] = frames(f, 1);
      const tlb = f.kernel.gather(f.mm, false);
      tlb.tlbStartVma({ ...VMA, exec });
      tlb.tlbRemoveTlbEntry(16);
      tlb.tlbRemovePage(p);
      tlb.tlbEndVma(VMA);
      expect(tlb.trace).toHaveLength(0); // no flush at end_vma
      tlb.tlbFinishMmu();
      expect(seq(tlb.trace)[0], `${itlb} exec=${exec}`).toBe(want);
    }
  });

  it('fullmm: range tracking is ignored and the flush is whole-mm', () => {
    for (const policy of ['arm-2.6.38', 'generic-2011-series', 'generic-range', 'linux-6', 'ia64-2.6.38']) {
      const f = setup(policy);
      const [p] = frames(f, 1);
      const tlb = f.kernel.gather(f.mm, true);
      tlb.tlbStartVma(VMA);
      tlb.tlbRemoveTlbEntry(16);
      tlb.tlbRemovePage(p);
      tlb.tlbEndVma(VMA);
      tlb.tlbFinishMmu();
      expect(seq(tlb.trace), policy).toEqual(['flush mm', 'free data']);
      const fl = tlb.trace[0];
      expect(fl.t === 'flush' && fl.which, policy).toBe(Which.ALL);
    }
  });
});

describe('nested gathers (tlb_flush_pending)', () => {
  it('linux-6: a finish that sees another gather pending forces a full flush including tables', () => {
    const f = setup('linux-6');
    const a = f.kernel.gather(f.mm, false, syscallCode('madvise(DONTNEED)'));
    const b = f.kernel.gather(f.mm, false, syscallCode('madvise(DONTNEED)'));
    expect(f.mm.tlbFlushPending.read()).toBe(2);
    // b found nothing to zap (a already cleared the PTEs) but must not return before a's flush.
    b.tlbFinishMmu(16, 20);
    expect(seq(b.trace)).toEqual(['flush mm']);
    expect(b.fullmm).toBe(true);
    expect(f.mm.tlbFlushPending.read()).toBe(1);
    a.tlbFinishMmu(16, 20);
    expect(a.trace).toHaveLength(0); // not nested any more, nothing pending
    expect(f.mm.tlbFlushPending.read()).toBe(0);
  });

  it('linux-6 nested "range-drops-freed-tables" (4.20-5.1): the forced flush is leaf-only over the caller range', () => {
    const f = setup('linux-6', { policyOptions: { nested: 'range-drops-freed-tables' } });
    const t = f.cpu0.alloc.alloc(FrameKind.TABLE_PTE, 0);
    const a = f.kernel.gather(f.mm, false);
    const b = f.kernel.gather(f.mm, false);
    b.pteFreeTlb(t, 16);
    b.tlbFinishMmu(16, 32);
    expect(seq(b.trace)).toEqual(['flush 16-32 D', 'sync', 'free pte-table']);
    a.tlbFinishMmu();
  });

  it('generic-2011-series ignores tlb_flush_pending: the second madvise returns with no flush (race 8)', () => {
    const f = setup('generic-2011-series');
    const a = f.kernel.gather(f.mm, false);
    const b = f.kernel.gather(f.mm, false);
    b.tlbFinishMmu(16, 20);
    expect(b.trace).toEqual([]);
    a.tlbFinishMmu(16, 20);
  });
});

describe('registry and op names', () => {
  it('registers the seed policies and linux-6, each name once, each a fresh object with its name', () => {
    // A policy added later joins the registry without editing this test.
    expect(policyNames()).toEqual(expect.arrayContaining(['arm-2.6.37', 'arm-2.6.38', 'sh-2.6.38', 'ia64-2.6.38', 'generic-2011-series', 'generic-range', 'linux-6']));
    expect(new Set(policyNames()).size).toBe(policyNames().length);
    for (const n of policyNames()) {
      expect(createPolicy(n).name).toBe(n);
      expect(createPolicy(n)).not.toBe(createPolicy(n));
    }
    // The old name of the 2011 series is accepted, not listed, and resolves to the new one.
    expect(createPolicy('generic-2.6.39').name).toBe('generic-2011-series');
    expect(canonicalPolicyName('generic-2.6.39')).toBe('generic-2011-series');
    expect(isPolicyName('generic-2.6.39')).toBe(true);
    expect(isPolicyName('toString')).toBe(false);
    expect(() => createPolicy('x86-1.0')).toThrow(/unknown mmu_gather policy 'x86-1.0'/);
  });

  it('names kernel ops as syscall/step', () => {
    expect(kernelOpName(kernelOp(syscallCode('munmap'), Step.TLB_REMOVE_PAGE))).toBe('munmap/tlb_remove_page');
    expect(kernelOpName(kernelOp(syscallCode('shift_arg_pages'), Step.PTE_FREE_TLB))).toBe('shift_arg_pages/pte_free_tlb');
    expect(kernelOpName(kernelOp(syscallCode('exit_mmap'), 0))).toBe('exit_mmap');
    expect(kernelOpName(0)).toBe('none');
  });

  it('refuses a second finish and leaves nothing unfreed', () => {
    const f = setup('arm-2.6.38');
    const tlb = f.kernel.gather(f.mm, false);
    tlb.tlbFinishMmu();
    expect(() => tlb.tlbFinishMmu()).toThrow(/twice/);
    expect(() => tlb.tlbStartVma(VMA)).toThrow(/finished/);
  });
});
