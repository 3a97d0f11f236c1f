import { describe, expect, it } from 'vitest';
import { Cpu } from '../../src/machine/cpu.js';
import { FlushKind, FrameKind, Which } from '../../src/machine/constants.js';
import { C } from '../../src/machine/layout.js';
import { post as postIpi, tryClaim } from '../../src/machine/ipi.js';
import { Lazy, catchingUp, lazyCpus, skipLazy } from '../../src/machine/lazy.js';
import { Machine } from '../../src/machine/machine.js';

/** The lazy TLB protocol (machine/lazy.ts), driven from one thread. */
describe('lazy TLB mode', () => {
  function fixture() {
    const machine = Machine.create({ cpus: 3, frames: 256, wordsPerPage: 16, flush: 'ipi' });
    const cpus = [0, 1, 2].map((c) => new Cpu(machine.views, c));
    cpus[0].pt.createSpace(0);
    for (const c of cpus) c.switchMm(0);
    cpus[0].pt.map(0, 5, cpus[0].alloc.alloc(FrameKind.DATA, 0), 0);
    const state = (c: number): number => Atomics.load(machine.i32, machine.layout.cpu(c, C.LAZY));
    return { machine, cpus, state };
  }

  it('an initiator skips lazy CPUs and marks them; a marked CPU flushes its mm when it switches back', () => {
    const { machine, cpus, state } = fixture();
    const L = machine.layout;
    cpus[1].access(0, 5, 0); // CPU 1 caches vpn 5
    cpus[1].enterLazy();
    expect(state(1)).toBe(Lazy.LAZY);
    expect(lazyCpus(machine.i32, L, 0b111)).toBe(0b010);
    expect(skipLazy(machine.i32, L, 0b111)).toBe(0b101);
    expect(state(1)).toBe(Lazy.MISSED);
    expect(catchingUp(machine.i32, L, 1)).toBe(true);
    // Skipped again: still marked, still left out.
    expect(skipLazy(machine.i32, L, 0b010)).toBe(0);
    expect(machine.caches(1).some((e) => e.cache === 'dtlb' && e.vpn === 5)).toBe(true);
    cpus[1].leaveLazy();
    expect(state(1)).toBe(Lazy.ACTIVE);
    expect(machine.caches(1).filter((e) => e.asid === 0)).toEqual([]);
    expect(cpus[1].count('lazyCatchUps')).toBe(1);
  });

  it('a CPU that leaves lazy mode unmarked keeps its caches, and is not skipped after', () => {
    const { machine, cpus, state } = fixture();
    cpus[2].access(0, 5, 0);
    cpus[2].enterLazy();
    cpus[2].leaveLazy();
    expect(state(2)).toBe(Lazy.ACTIVE);
    expect(machine.caches(2).some((e) => e.vpn === 5)).toBe(true);
    expect(skipLazy(machine.i32, machine.layout, 0b100)).toBe(0b100);
    expect(cpus[2].count('lazyCatchUps')).toBe(0);
  });

  it('a flush IPI marked LAZY_LEAVE makes a lazy CPU leave the mm (cpumask bit cleared) until it switches back', () => {
    const { machine, cpus, state } = fixture();
    const { i32, layout: L } = machine;
    cpus[1].access(0, 5, 0);
    cpus[1].enterLazy();
    const post = (which: number): void => {
      const seq = tryClaim(i32, L, 1);
      expect(seq).toBeGreaterThanOrEqual(0);
      postIpi(i32, L, 0, 1, { kind: FlushKind.RANGE, asid: 0, start: 7, end: 8, which }, seq, 1);
      expect(cpus[1].handleIpis()).toBe(1);
    };
    // Without the mark (a kernel with no lazy rules) the lazy CPU only invalidates.
    post(Which.DTLB);
    expect(cpus[1].asid).toBe(0);
    expect(cpus[0].pt.cpumask(0) & 0b010).toBe(0b010);
    post(Which.DTLB | Which.LAZY_LEAVE);
    expect(cpus[1].asid).toBe(-1);
    expect(cpus[0].pt.cpumask(0) & 0b010).toBe(0);
    expect(machine.caches(1).filter((e) => e.asid === 0)).toEqual([]);
    expect(state(1)).toBe(Lazy.ACTIVE);
    expect(cpus[1].count('lazyLeaves')).toBe(1);
    // Its walks find no mm meanwhile; switching back loads the mm and sets the bit again.
    cpus[1].speculativeWalk(5, false);
    expect(machine.caches(1)).toEqual([]);
    cpus[1].leaveLazy();
    expect(cpus[1].asid).toBe(0);
    expect(cpus[0].pt.cpumask(0) & 0b010).toBe(0b010);
  });

  it('a CPU not in lazy mode ignores the LAZY_LEAVE mark', () => {
    const { machine, cpus } = fixture();
    const { i32, layout: L } = machine;
    const seq = tryClaim(i32, L, 2);
    postIpi(i32, L, 0, 2, { kind: FlushKind.ASID, asid: 0, start: 0, end: 0, which: Which.ALL | Which.LAZY_LEAVE }, seq, 1);
    expect(cpus[2].handleIpis()).toBe(1);
    expect(cpus[2].asid).toBe(0);
    expect(cpus[2].count('lazyLeaves')).toBe(0);
  });
});
