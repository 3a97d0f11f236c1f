import { describe, expect, it } from 'vitest';
import { FlushKind, Pte } from '../../src/machine/constants.js';
import { type MoveFlush, movePageTables } from '../../src/kernel/memory.js';
import { syscallCode } from '../../src/kernel/ops.js';
import { createPolicy } from '../../src/kernel/policies/index.js';
import { setup } from './helpers.js';

/**
 * move_page_tables as each era's mm/mremap.c does it. A 20-page vma at
 * [40, 60) with a hole at 45 moves down by 24 to [16, 36): the old range
 * crosses the PTE table boundary at 48 (tables of 16 pages), the new one the
 * boundary at 32, so move_ptes runs over three extents: [40, 48), [48, 56)
 * and [56, 60).
 */
function move(flush: MoveFlush, dirty: number[] = []) {
  const f = setup('linux-6');
  f.cpu0.switchMm(0);
  const vma = f.kernel.mmap(f.mm, 40, 20, { write: true });
  f.kernel.faultIn(f.mm, 40, 60);
  f.cpu0.pt.unmap(0, 45);
  // A store through each of these would have set the dirty bit (the walker does it).
  for (const v of dirty) f.cpu0.pt.setEntry(f.cpu0.pt.table(0, v, 1), v & 15, f.cpu0.pt.pte(0, v) | Pte.DIRTY);
  vma.start = 16;
  return movePageTables(f.cpu0, f.mm, vma, 40, 16, 20, syscallCode('shift_arg_pages'), { flush });
}

describe('move_page_tables flushes as its era does', () => {
  it('2.6.x (ptep_clear_flush): one page flush per moved PTE, at its old address', () => {
    const r = move('per-pte');
    expect(r.moved).toBe(19);
    expect(r.flushes.map((e) => [e.start, e.end])).toEqual([...Array.from({ length: 20 }, (_, i) => 40 + i)].filter((v) => v !== 45).map((v) => [v, v + 1]));
    expect(r.flushes.every((e) => e.kind === FlushKind.RANGE && e.cls === 'page')).toBe(true);
  });

  it('3.2-4.8 (after-unlock): no flush in move_ptes; the whole old range once, after the last extent', () => {
    const r = move('after-unlock', [50]);
    expect(r.moved).toBe(19);
    expect(r.flushes.map((e) => [e.start, e.end])).toEqual([[40, 60]]);
  });

  it('4.9-4.18 (dirty-under-ptl): an extent that moved a dirty PTE in move_ptes, the whole range once more at the end', () => {
    const r = move('dirty-under-ptl', [50, 58]);
    expect(r.flushes.map((e) => [e.start, e.end])).toEqual([
      [48, 56],
      [56, 60],
      [40, 60],
    ]);
    // Every extent dirty: nothing left for the end.
    expect(move('dirty-under-ptl', [41, 50, 58]).flushes.map((e) => [e.start, e.end])).toEqual([
      [40, 48],
      [48, 56],
      [56, 60],
    ]);
    // The dirty bit travels with the PTE.
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 0, 2, { write: true });
    f.kernel.faultIn(f.mm, 0, 2);
    f.cpu0.pt.setEntry(f.cpu0.pt.table(0, 0, 1), 0, f.cpu0.pt.pte(0, 0) | Pte.DIRTY);
    f.kernel.mremap(f.mm, { start: 0, pages: 2, newStart: 32 });
    expect(f.cpu0.pt.pte(0, 32) & Pte.DIRTY).toBe(Pte.DIRTY);
    expect(f.cpu0.pt.pte(0, 33) & Pte.DIRTY).toBe(0);
  });

  it('4.19+ (under-ptl): one flush of each move_ptes extent that moved a present PTE, after the moves, under the PTE locks', () => {
    const r = move('under-ptl');
    expect(r.moved).toBe(19);
    expect(r.flushes.map((e) => [e.start, e.end])).toEqual([
      [40, 48],
      [48, 56],
      [56, 60],
    ]);
  });

  it('each policy carries its era', () => {
    for (const p of ['arm-2.6.37', 'arm-2.6.38', 'sh-2.6.38', 'ia64-2.6.38', 'generic-2011-series', 'generic-range']) expect(createPolicy(p).moveFlush, p).toBe('per-pte');
    expect(createPolicy('linux-6').moveFlush).toBe('under-ptl');
    expect(createPolicy('linux-6', { mremapFlush: 'after-unlock' }).moveFlush).toBe('after-unlock');
    expect(createPolicy('linux-6', { mremapFlush: 'dirty-under-ptl' }).moveFlush).toBe('dirty-under-ptl');
  });
});
