import { describe, expect, it } from 'vitest';
import { policyNames } from '../../src/kernel/policies/index.js';
import { frameAt, seq, setup, uncoveredFrees } from './helpers.js';

/**
 * munmap of [16, 20) with a neighbour vma at [0, 2): four data pages are
 * zapped and the PTE table mapping [16, 32) is freed (the PMD table stays,
 * [0, 2) still uses it). The exact flush/free order per policy.
 */
const EXPECTED: Record<string, string[]> = {
  // Frees first, range flush in tlb_end_vma, the table freed with no flush after it.
  'arm-2.6.37': ['free data now', 'free data now', 'free data now', 'free data now', 'flush 16-20 D', 'free pte-table now'],
  // Range flush at end_vma, one page for the table at finish, then the batch.
  'arm-2.6.38': ['flush 16-20 D', 'flush 16-17 D', 'free data', 'free data', 'free data', 'free data', 'free pte-table'],
  // As ARM before the fix, but flush_tlb_range always hits the I-TLB too; the table goes to the quicklist.
  'sh-2.6.38': ['free data now', 'free data now', 'free data now', 'free data now', 'flush 16-20 DI', 'park pte-table'],
  // Table to the quicklist when unhooked; finish purges the caller's range and its VHPT range, then the data batch.
  'ia64-2.6.38': ['park pte-table', 'flush 16-20 DI', 'flush 16-20 W', 'free data', 'free data', 'free data', 'free data'],
  // end_vma's range flush clears need_flush; the table free sets it; finish flushes the mm.
  'generic-2011-series': ['flush 16-20 D', 'flush mm', 'free data', 'free data', 'free data', 'free data', 'free pte-table'],
  // One flush in tlb_flush_mmu covering the pages and the table's whole span.
  'generic-range': ['flush 16-32 D', 'free data', 'free data', 'free data', 'free data', 'free pte-table'],
  // end_vma tlbonly; the table adds one page and freed_tables (WALK); sync IPI; tables, then pages.
  'linux-6': ['flush 16-20 D', 'flush 16-17 DW', 'sync', 'free pte-table', 'free data', 'free data', 'free data', 'free data'],
};

function run(policy: string) {
  const f = setup(policy);
  f.cpu0.switchMm(0);
  f.kernel.mmap(f.mm, 0, 2, { write: true });
  f.kernel.mmap(f.mm, 16, 4, { write: true });
  f.kernel.faultIn(f.mm, 0, 20);
  const where = new Map<number, number>();
  for (let v = 16; v < 20; v++) where.set(frameAt(f, v), v);
  const table = f.cpu0.pt.table(0, 16, 1);
  where.set(table, 16);
  const r = f.kernel.munmap(f.mm, 16, 20);
  return { f, r, where, table };
}

describe('munmap: order of flush and free, per policy', () => {
  it('covers every policy', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(policyNames().sort());
  });

  for (const policy of Object.keys(EXPECTED)) {
    it(policy, () => {
      const { f, r, where } = run(policy);
      expect(seq(r.trace)).toEqual(EXPECTED[policy]);
      expect(r.ptes).toBe(4);
      expect(f.events).toEqual(r.trace);
      // The range is gone, the neighbour's table stays.
      for (let v = 16; v < 20; v++) expect(f.cpu0.pt.pte(0, v)).toBe(0);
      expect(f.cpu0.pt.table(0, 16, 1)).toBe(-1);
      expect(f.cpu0.pt.table(0, 0, 1)).toBeGreaterThanOrEqual(0);
      expect(f.mm.vmas.map((v) => [v.start, v.end])).toEqual([[0, 2]]);
      // Every frame handed to the gather went back exactly once (to the allocator, or to the quicklist).
      const freed = r.trace.filter((e) => e.t === 'free' || e.t === 'park').map((e) => (e.t === 'free' || e.t === 'park' ? e.frame : -1));
      expect(freed.sort()).toEqual([...where.keys()].sort());
      expect(f.mm.tlbFlushPending.read()).toBe(0);
    });
  }

  it('correct policies free every frame after a flush that covers it; the 2011 broken ones do not', () => {
    for (const policy of ['arm-2.6.38', 'generic-2011-series', 'generic-range', 'linux-6']) {
      const { r, where } = run(policy);
      expect(uncoveredFrees(r.trace, where), policy).toEqual([]);
    }
    // Data pages go before the end_vma flush (arm-2.6.37 frees the table after it, inside its range).
    const arm = run('arm-2.6.37');
    expect(uncoveredFrees(arm.r.trace, arm.where)).toHaveLength(4);
    const sh = run('sh-2.6.38');
    expect(uncoveredFrees(sh.r.trace, sh.where)).toHaveLength(4);
    // ia64: data pages are covered; the table is parked on this CPU's quicklist (not freed) before
    // the purge of its VHPT range, and stays there (no trim below 25 pages).
    const ia = run('ia64-2.6.38');
    expect(uncoveredFrees(ia.r.trace, ia.where)).toEqual([]);
    expect(ia.r.trace[0]).toMatchObject({ t: 'park', frame: ia.table });
    expect(ia.f.kernel.quicklist?.length).toBe(1);
    expect(ia.r.stats.frees).toMatchObject({ tables: 0, parked: 1 });
  });

  it('counts flushes by kind and frees delayed, with their delay in gather operations', () => {
    const a = run('arm-2.6.38').r.stats;
    expect(a.flushes).toMatchObject({ page: 1, range: 1, mm: 0, all: 0, itlb: 0, walk: 0, total: 2 });
    expect(a.frees).toMatchObject({ data: 4, tables: 1, immediate: 0, delayed: 5 });
    // ops: gather, start_vma, 4 × (remove_tlb_entry + remove_page), end_vma, pte_free_tlb,
    // finish = 13; the first page was queued at op 4 and freed at op 13.
    expect(a.ops).toBe(13);
    expect(a.frees.delayMax).toBe(9);
    const b = run('arm-2.6.37').r.stats;
    expect(b.frees).toMatchObject({ immediate: 5, delayed: 0, delaySum: 0 });
    const l = run('linux-6').r.stats;
    expect(l.flushes).toMatchObject({ page: 1, range: 1, walk: 1, total: 2 });
    expect(l.syncIpis).toBe(1);
  });
});
