import { describe, expect, it } from 'vitest';
import { Access, FrameKind, ViolationKind } from '../../src/machine/constants.js';
import { A } from '../../src/machine/layout.js';
import { Step, syscallCode, kernelOp } from '../../src/kernel/ops.js';
import { staleAfterReturn, staleTablePointers } from '../../src/kernel/stale.js';
import { seq, setup } from './helpers.js';

/**
 * exec's shift_arg_pages: the stack [40, 48) moves down by 16 to [24, 32).
 * move_page_tables flushes the old range; then free_pgd_range frees the PTE
 * table of [32, 48) inside a gather that sees no start_vma, end_vma or
 * remove_tlb_entry (docs/domain.md 5.3).
 */
/** move_page_tables of 2.6.x: ptep_clear_flush, one page flush per moved PTE (mm/mremap.c move_ptes). */
const PER_PTE = Array.from({ length: 8 }, (_, i) => `flush ${40 + i}-${41 + i} D`);

const EXPECTED: Record<string, string[]> = {
  'arm-2.6.37': [...PER_PTE, 'free pte-table now'], // no flush at all for the table
  'sh-2.6.38': [...PER_PTE, 'park pte-table'], // the seed: "sh do[es] indeed suffer": no flush for the table
  'ia64-2.6.38': [...PER_PTE, 'park pte-table', 'flush 32-48 DI', 'flush 32-48 W'], // parked, then the range and its VHPT range
  'arm-2.6.38': [...PER_PTE, 'flush mm', 'free pte-table'], // no vma seen: whole mm
  'generic-2011-series': [...PER_PTE, 'flush mm', 'free pte-table'], // need_flush set by the table free
  'generic-range': [...PER_PTE, 'flush 32-48 D', 'free pte-table'], // the table's span
  // move_ptes flushes the moved extent once, under the PTE lock; then one page, walk caches named.
  'linux-6': ['flush 40-48 D', 'flush 32-33 DW', 'sync', 'free pte-table'],
};

describe('shift_arg_pages', () => {
  for (const policy of Object.keys(EXPECTED)) {
    it(`${policy}: moves the stack and frees the vacated table in this order`, () => {
      const f = setup(policy);
      f.cpu0.switchMm(0);
      const stack = f.kernel.mmap(f.mm, 40, 8, { write: true });
      f.kernel.faultIn(f.mm, 40, 48);
      const before = Array.from({ length: 8 }, (_, i) => f.cpu0.pt.pte(0, 40 + i));
      const oldTable = f.cpu0.pt.table(0, 40, 1);
      const r = f.kernel.shiftArgPages(f.mm, stack, 16);
      expect(seq(r.trace)).toEqual(EXPECTED[policy]);
      expect(r.ptes).toBe(8);
      expect(f.mm.vmas.map((v) => [v.start, v.end])).toContainEqual([24, 32]);
      expect(Array.from({ length: 8 }, (_, i) => f.cpu0.pt.pte(0, 24 + i))).toEqual(before);
      expect(f.cpu0.pt.table(0, 40, 1)).toBe(-1);
      const freed = r.trace.find((e) => e.t === 'free' || e.t === 'park');
      expect(freed && (freed.t === 'free' || freed.t === 'park') && freed.frame).toBe(oldTable);
      expect(r.removed).toEqual([{ start: 32, end: 48 }]);
      // No gather saw a vma or a removed entry: the only range is the table's.
      expect(r.gathers).toHaveLength(1);
    });
  }

  /**
   * CPU 1 walked the stack before exec moved it, so its walk cache points at
   * the old PTE table. The hardware is leaf-only (a range invalidate without
   * WALK keeps walk-cache entries), so move_page_tables' flush leaves them.
   * When the table is freed, the test reuses it as data and lets CPU 1 walk.
   */
  const WALKER_SEES_FREED_TABLE: Record<string, boolean> = {
    'arm-2.6.37': true,
    'generic-range': true, // the span is flushed, but only leaf entries: leaf-only hardware keeps the pointer
    'arm-2.6.38': false,
    'generic-2011-series': false,
    'linux-6': false,
  };
  for (const [policy, bad] of Object.entries(WALKER_SEES_FREED_TABLE)) {
    it(`${policy}: a speculative walk through the walk cache ${bad ? 'reads' : 'cannot reach'} the freed table`, () => {
      let oldTable = -1;
      let walked = false;
      const f = setup(
        policy,
        {
          onTrace: (ev) => {
            if (ev.t !== 'free' || ev.frame !== oldTable || walked) return;
            walked = true;
            expect(f.cpu0.alloc.alloc(FrameKind.DATA, 5)).toBe(oldTable);
            f.cpu1!.speculativeWalk(44, false);
          },
        },
        { cpus: 2, leafDropsWalkCache: false },
      );
      const stack = f.kernel.mmap(f.mm, 40, 8, { write: true });
      f.kernel.faultIn(f.mm, 40, 48);
      oldTable = f.cpu0.pt.table(0, 40, 1);
      f.cpu1!.switchMm(0);
      f.cpu1!.access(Access.LOAD, 40, 0);
      expect(f.machine.caches(1).some((e) => e.cache === 'walk' && e.level === 1 && e.value === oldTable)).toBe(true);
      // CPU 1 is not running, so it could not acknowledge linux-6's synchronising
      // IPI (which guards gup_fast, not hardware walks); broadcast invalidation
      // ignores the cpumask, so taking CPU 1 out of it changes nothing else here.
      Atomics.and(f.machine.i32, f.machine.layout.space(0, A.CPUMASK), ~2);

      f.kernel.shiftArgPages(f.mm, stack, 16);
      expect(walked).toBe(true);
      const v = f.machine.violations();
      if (bad) {
        expect(v.total).toBe(1);
        expect(v.records[0]).toMatchObject({ kind: ViolationKind.WALK_TABLE, cpu: 1, vpn: 44, frame: oldTable, level: 1, frameKind: FrameKind.DATA });
        const step = policy === 'generic-range' ? Step.TLB_FINISH_MMU : Step.PTE_FREE_TLB;
        expect(v.records[0].freedBy.op).toBe(kernelOp(syscallCode('shift_arg_pages'), step));
        expect(staleTablePointers(f.machine, 0)).toEqual([expect.objectContaining({ cpu: 1, cache: 'walk', value: oldTable, level: 1 })]);
      } else {
        expect(v.total).toBe(0);
        expect(staleTablePointers(f.machine, 0)).toEqual([]);
      }
      expect(staleAfterReturn(f.machine, 0, 32, 48)).toEqual([]);
    });
  }

  /**
   * sh and ia64 park the vacated table on CPU 0's quicklist. A walker still
   * pointing at it reads cleared entries (harmless) until the quicklist hands
   * it out as a new table; from then on the old pointer is a violation unless
   * a flush dropped it first: sh never flushes it, ia64 purges its VHPT range
   * in tlb_finish_mmu.
   */
  const REUSED_TABLE_READ: Record<string, boolean> = { 'sh-2.6.38': true, 'ia64-2.6.38': false };
  for (const [policy, bad] of Object.entries(REUSED_TABLE_READ)) {
    it(`${policy}: the parked table is harmless; handed out again, a stale walk-cache pointer ${bad ? 'reads it' : 'is gone'}`, () => {
      const f = setup(policy, {}, { cpus: 2, leafDropsWalkCache: false });
      const stack = f.kernel.mmap(f.mm, 40, 8, { write: true });
      f.kernel.faultIn(f.mm, 40, 48);
      const oldTable = f.cpu0.pt.table(0, 40, 1);
      f.cpu1!.switchMm(0);
      f.cpu1!.access(Access.LOAD, 40, 0);
      Atomics.and(f.machine.i32, f.machine.layout.space(0, A.CPUMASK), ~2);
      f.kernel.shiftArgPages(f.mm, stack, 16);
      expect(f.kernel.quicklist?.length).toBe(1);
      // Parked: kind and generation kept; a walk through a surviving pointer finds nothing, harmlessly.
      f.cpu1!.speculativeWalk(44, false);
      expect(f.machine.violations().total).toBe(0);
      // The new program maps [64, 72): its PTE table comes from the quicklist.
      f.kernel.mmap(f.mm, 64, 8, { write: true });
      f.kernel.faultIn(f.mm, 64, 72);
      expect(f.cpu0.pt.table(0, 64, 1)).toBe(oldTable);
      expect(f.kernel.quicklist?.length).toBe(0);
      f.cpu1!.speculativeWalk(44, false);
      const v = f.machine.violations();
      if (bad) {
        expect(v.total).toBe(1);
        expect(v.records[0]).toMatchObject({ kind: ViolationKind.WALK_TABLE, cpu: 1, vpn: 44, frame: oldTable, level: 1, frameKind: FrameKind.TABLE_PTE });
        expect(v.records[0].genNow).toBe(v.records[0].genAtFill + 1);
        expect(v.records[0].freedBy.op).toBe(kernelOp(syscallCode('shift_arg_pages'), Step.PTE_FREE_TLB));
      } else {
        expect(v.total).toBe(0);
        expect(staleTablePointers(f.machine, 0)).toEqual([]);
      }
    });
  }
});
