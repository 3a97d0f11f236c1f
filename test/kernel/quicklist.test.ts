import { describe, expect, it } from 'vitest';
import { Access, FrameKind, Pte, ViolationKind } from '../../src/machine/constants.js';
import { F } from '../../src/machine/layout.js';
import { IA64_QUICKLIST, Quicklist, SH_QUICKLIST, provenance } from '../../src/kernel/quicklist.js';
import { setup } from './helpers.js';

/** A quicklist on CPU 0 of a 2-CPU machine (CPU 1 idle), and some PTE tables to park. */
function fixture(spec = IA64_QUICKLIST, frames = 256) {
  const f = setup('linux-6', {}, { cpus: 2, frames, leafDropsWalkCache: false });
  const q = new Quicklist(f.cpu0, spec);
  const table = (): number => f.cpu0.alloc.alloc(FrameKind.TABLE_PTE, 0);
  const meta = (frame: number, field: number): number => Atomics.load(f.machine.i32, f.machine.layout.frame(frame, field));
  return { f, q, table, meta };
}

describe('page-table quicklist (quicklist_free_page / quicklist_alloc / quicklist_trim)', () => {
  it('parks a table without freeing it: kind and generation stay, the allocator does not get it', () => {
    const { f, q, table, meta } = fixture();
    const t = table();
    const gen = meta(t, F.GEN);
    const free = f.cpu0.alloc.freeFrames();
    q.free(t);
    expect(q.length).toBe(1);
    expect(meta(t, F.KIND)).toBe(FrameKind.TABLE_PTE);
    expect(meta(t, F.GEN)).toBe(gen);
    expect(meta(t, F.FREE_CPU)).toBe(0);
    expect(f.cpu0.alloc.freeFrames()).toBe(free);
    expect(f.cpu0.alloc.freeList()).not.toContain(t);
  });

  it('refuses a table that still has a present entry', () => {
    const { f, q, table } = fixture();
    const t = table();
    f.cpu0.pt.setEntry(t, 3, f.cpu0.alloc.alloc(FrameKind.DATA, 0) | Pte.PRESENT);
    expect(() => q.free(t)).toThrow(/entry 3 still present/);
  });

  it('hands out the last parked table first, as a new allocation of the kind asked for', () => {
    const { f, q, table, meta } = fixture();
    const [a, b] = [table(), table()];
    q.free(a);
    q.free(b);
    f.cpu0.pt.setEntry(b, 0, 0); // a stray shadow must not survive either
    const gen = meta(b, F.GEN);
    // ia64's quicklist 0 serves PMD tables too.
    expect(q.allocTable(FrameKind.TABLE_PMD, 3)).toBe(b);
    expect(meta(b, F.GEN)).toBe(gen + 1);
    expect(meta(b, F.KIND)).toBe(FrameKind.TABLE_PMD);
    expect(meta(b, F.OWNER)).toBe(3);
    expect(q.allocTable(FrameKind.TABLE_PTE, 3)).toBe(a);
    // Empty: from the allocator.
    const free = f.cpu0.alloc.freeFrames();
    const c = q.allocTable(FrameKind.TABLE_PTE, 3);
    expect([a, b]).not.toContain(c);
    expect(f.cpu0.alloc.freeFrames()).toBe(free - 1);
  });

  it('sh: PMD tables neither come from nor go to the list', () => {
    const { f, q, table } = fixture(SH_QUICKLIST);
    q.free(table());
    expect(q.serves(2)).toBe(false);
    const free = f.cpu0.alloc.freeFrames();
    q.allocTable(FrameKind.TABLE_PMD, 0);
    expect(q.length).toBe(1);
    expect(f.cpu0.alloc.freeFrames()).toBe(free - 1);
  });

  it('trims nothing at or below min_pages, then at most max_free down to max(min_pages, free/16/cpus)', () => {
    // 4096 frames: free/16/2 CPUs is about 120 pages, above min_pages (25).
    const big = fixture(IA64_QUICKLIST, 4096);
    for (let i = 0; i < 25; i++) big.q.free(big.table());
    expect(big.q.trim()).toEqual([]);
    for (let i = 0; i < 100; i++) big.q.free(big.table());
    const keep = Math.max(25, Math.floor(big.f.cpu0.alloc.freeFrames() / 16 / 2));
    expect(keep).toBeGreaterThan(25);
    expect(big.q.trim()).toHaveLength(Math.min(125 - keep, 16));
    // 256 frames: the bound is min_pages; max_free caps each trim at 16.
    const small = fixture(IA64_QUICKLIST, 256);
    const parked: number[] = [];
    for (let i = 0; i < 60; i++) {
      parked.push(small.table());
      small.q.free(parked[i]);
    }
    const freed = small.q.trim();
    expect(freed).toEqual(parked.slice(-16).reverse());
    for (const fr of freed) expect(small.meta(fr, F.KIND)).toBe(FrameKind.FREE);
    expect(small.q.length).toBe(44);
    expect(small.q.trim()).toHaveLength(16);
    expect(small.q.trim()).toHaveLength(3);
    expect(small.q.trim()).toEqual([]);
  });

  it('a walker still pointing at a parked table reads empty entries; once handed out, it is caught', () => {
    const { f, q } = fixture();
    f.cpu0.pt.createSpace(1);
    f.cpu0.pt.map(1, 5, f.cpu0.alloc.alloc(FrameKind.DATA, 1), Pte.WRITE);
    const [c0, c1] = [f.cpu0, f.cpu1!];
    c1.switchMm(1);
    c1.access(Access.LOAD, 5, 0);
    const pmd = c0.pt.table(1, 5, 2);
    const t = c0.pt.table(1, 5, 1);
    c0.pt.clearEntry(t, 5);
    c0.pt.clearEntry(pmd, 0); // unhooked, with no flush: CPU 1's walk cache still points at t
    q.free(t);
    c1.speculativeWalk(5, false);
    expect(f.machine.violations().total).toBe(0);
    expect(q.allocTable(FrameKind.TABLE_PTE, 1)).toBe(t);
    c1.speculativeWalk(5, false);
    const v = f.machine.violations();
    expect(v.total).toBe(1);
    expect(v.records[0]).toMatchObject({ kind: ViolationKind.WALK_TABLE, cpu: 1, frame: t, frameKind: FrameKind.TABLE_PTE });
  });

  it('names its sources', () => {
    expect(provenance.files.some((x) => x.startsWith('mm/quicklist.c'))).toBe(true);
    expect(provenance.deviations.length).toBeGreaterThan(0);
  });
});
