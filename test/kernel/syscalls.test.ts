import { describe, expect, it } from 'vitest';
import { Access } from '../../src/machine/constants.js';
import { Machine } from '../../src/machine/machine.js';
import { Cpu } from '../../src/machine/cpu.js';
import { KernelError, Kernel } from '../../src/kernel/syscalls.js';
import { runKernelScript } from '../../src/kernel/script.js';
import { policyNames } from '../../src/kernel/policies/index.js';
import { seq, setup } from './helpers.js';

describe('free_pgtables: floor and ceiling', () => {
  it('frees the PTE table and the PMD table when no neighbour shares them', () => {
    const f = setup('generic-range');
    f.kernel.mmap(f.mm, 0, 2);
    f.kernel.mmap(f.mm, 300, 2);
    f.kernel.faultIn(f.mm, 0, 302);
    const pmd = f.cpu0.pt.table(0, 300, 2);
    const r = f.kernel.munmap(f.mm, 300, 302);
    // The PTE table maps [288, 304), the PMD table [256, 512): both tracked in one range.
    expect(seq(r.trace)).toEqual(['flush 256-512 D', 'free data', 'free data', 'free pte-table', 'free pmd-table']);
    expect(r.trace.some((e) => e.t === 'free' && e.frame === pmd)).toBe(true);
    expect(f.cpu0.pt.table(0, 300, 2)).toBe(-1);
    expect(f.cpu0.pt.table(0, 0, 1)).toBeGreaterThanOrEqual(0);
  });

  it('keeps a table shared with the next vma (ceiling) and with the previous one (floor)', () => {
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 0, 2);
    f.kernel.mmap(f.mm, 4, 2);
    f.kernel.mmap(f.mm, 8, 2);
    f.kernel.faultIn(f.mm, 0, 10);
    const r = f.kernel.munmap(f.mm, 4, 6);
    expect(seq(r.trace)).toEqual(['flush 4-6 D', 'free data', 'free data']);
    expect(f.cpu0.pt.table(0, 0, 1)).toBeGreaterThanOrEqual(0);
  });

  it('munmap splits vmas at the range edges and unmaps only the middle', () => {
    const f = setup('arm-2.6.38');
    f.kernel.mmap(f.mm, 16, 8, { exec: true });
    f.kernel.faultIn(f.mm, 16, 24);
    const r = f.kernel.munmap(f.mm, 18, 20);
    expect(f.mm.vmas.map((v) => [v.start, v.end, v.exec])).toEqual([
      [16, 18, true],
      [20, 24, true],
    ]);
    expect(seq(r.trace)).toEqual(['flush 18-20 DI', 'free data', 'free data']);
    expect(f.cpu0.pt.pte(0, 17)).not.toBe(0);
    expect(f.cpu0.pt.pte(0, 20)).not.toBe(0);
  });

  it('VM_PFNMAP: PTEs are cleared and flushed, frames are not freed', () => {
    const f = setup('linux-6');
    f.kernel.mmap(f.mm, 0, 2);
    f.kernel.mmap(f.mm, 16, 2, { pfnmap: true });
    f.kernel.faultIn(f.mm, 0, 18);
    const r = f.kernel.munmap(f.mm, 16, 18);
    expect(r.ptes).toBe(2);
    expect(seq(r.trace)).toEqual(['flush 16-18 D', 'flush 16-17 DW', 'sync', 'free pte-table']);
    expect(() => f.kernel.madviseDontneed(f.mm, 0, 2)).not.toThrow();
    f.kernel.mmap(f.mm, 32, 1, { pfnmap: true });
    expect(() => f.kernel.madviseDontneed(f.mm, 32, 33)).toThrow(KernelError);
  });
});

describe('exit_mmap', () => {
  for (const policy of policyNames()) {
    it(`${policy}: one fullmm gather, every frame back in the allocator or on this CPU's quicklist`, () => {
      const f = setup(policy);
      const free0 = f.machine.alloc.freeFrames() + 1; // + the pgd
      f.cpu0.switchMm(0);
      f.kernel.mmap(f.mm, 0, 3);
      f.kernel.mmap(f.mm, 100, 2, { exec: true });
      f.kernel.mmap(f.mm, 600, 20);
      f.kernel.faultIn(f.mm, 0, 4096);
      const tables = f.machine.alloc.freeFrames();
      const r = f.kernel.exitMmap(f.mm);
      expect(r.gathers).toHaveLength(1);
      expect(r.gathers[0].fullmm).toBe(true);
      expect(r.ptes).toBe(25);
      expect(r.stats.frees.data).toBe(25);
      // PTE tables at 0, 96, 592, 608; PMD tables for [0, 256) and [512, 768). ia64 parks all six on
      // its quicklist, sh the four PTE tables (its PMDs come from a slab); 6 < 25: no trim.
      const parked = f.kernel.quicklist?.length ?? 0;
      expect(parked).toBe({ 'ia64-2.6.38': 6, 'sh-2.6.38': 4 }[policy] ?? 0);
      expect(r.stats.frees.tables + r.stats.frees.parked).toBe(6);
      expect(r.stats.frees.parked).toBe(parked);
      expect(f.machine.alloc.freeFrames() + parked).toBe(free0);
      expect(tables).toBeLessThan(free0);
      expect(f.cpu0.pt.isLive(0)).toBe(false);
      const flushes = r.trace.filter((e) => e.t === 'flush');
      // Every fullmm flush is whole-mm; with batches of 500 there is exactly one.
      expect(flushes.map((e) => e.t === 'flush' && e.cls)).toEqual(['mm']);
      expect(f.mm.tlbFlushPending.read()).toBe(0);
    });
  }
});

describe('runKernelScript', () => {
  it('runs a coordinator script and reports stale translations after each removing call', () => {
    const machine = Machine.create({ cpus: 2, frames: 256, wordsPerPage: 16, flush: 'broadcast' });
    const cpu0 = new Cpu(machine.views, 0);
    const cpu1 = new Cpu(machine.views, 1);
    const kernel = new Kernel(cpu0, { policy: 'arm-2.6.38', batchCapacity: 4 });
    const res = runKernelScript(kernel, machine, [
      { op: 'createMm', asid: 0 },
      { op: 'mmap', asid: 0, start: 16, pages: 8, write: true },
      { op: 'mmap', asid: 0, start: 200, pages: 4, exec: true },
    ]);
    expect(res.map((r) => r.pages)).toEqual([0, 8, 4]);
    cpu1.switchMm(0);
    cpu1.access(Access.LOAD, 17, 0);
    cpu1.access(Access.FETCH, 201, 0);
    const res2 = runKernelScript(
      kernel,
      machine,
      [
        { op: 'madvise', asid: 0, start: 16, end: 18 },
        { op: 'munmap', asid: 0, start: 200, end: 204 },
        { op: 'exitMmap', asid: 0 },
      ],
      { keepTrace: true },
    );
    expect(res2.map((r) => [r.op, r.pages, r.stale])).toEqual([
      ['madvise', 2, []],
      ['munmap', 4, []],
      ['exitMmap', 6, []],
    ]);
    // The 4th page fills the batch (capacity 4): tlb_flush_mmu flushes and frees inside the vma;
    // end_vma then has nothing tracked; the table adds one page at its address (ARM's range).
    expect(seq(res2[1].trace!)).toEqual(['flush 200-204 DI', 'free data', 'free data', 'free data', 'free data', 'flush 192-193 DI', 'free pte-table']);
    expect(machine.violations().total).toBe(0);
  });
});

describe('two CPUs running syscalls on one mm (shared tlb_flush_pending)', () => {
  it('linux-6: a madvise that finds nothing still flushes while another gather is pending (race 8 fixed)', () => {
    const machine = Machine.create({ cpus: 2, frames: 256, wordsPerPage: 16, flush: 'broadcast' });
    const k0 = new Kernel(new Cpu(machine.views, 0), { policy: 'linux-6' });
    const k1 = new Kernel(new Cpu(machine.views, 1), { policy: 'linux-6' });
    runKernelScript(k0, machine, [
      { op: 'createMm', asid: 0, pendingWord: 3 },
      { op: 'mmap', asid: 0, start: 16, pages: 4 },
    ]);
    runKernelScript(k1, machine, [{ op: 'attachMm', asid: 0, vmas: k0.mm(0).vmas, pendingWord: 3 }]);
    const mm0 = k0.mm(0);
    // CPU 0's madvise has cleared the PTEs and not flushed yet.
    const a = k0.gather(mm0, false);
    a.tlbStartVma(mm0.vmas[0]);
    for (let v = 16; v < 20; v++) {
      const old = k0.cpu.pt.unmap(0, v);
      a.tlbRemoveTlbEntry(v);
      a.tlbRemovePage(old & 0xfffff);
    }
    expect(k1.mm(0).tlbFlushPending.read()).toBe(1);
    const free0 = machine.alloc.freeFrames();
    const r = k1.madviseDontneed(k1.mm(0), 16, 20);
    expect(r.ptes).toBe(0);
    expect(seq(r.trace)).toEqual(['flush mm']);
    a.tlbEndVma(mm0.vmas[0]);
    a.tlbFinishMmu(16, 20);
    expect(mm0.tlbFlushPending.read()).toBe(0);
    expect(machine.alloc.freeFrames()).toBe(free0 + 4);
  });
});
