import { describe, expect, it } from 'vitest';
import { Access, AccessResult, Cpu, FlushKind, FrameKind, Machine, Pte, Which, type MachineConfig } from '../../src/machine/index.js';

/** A machine and CPU objects in this thread: the hardware model without threads. */
function setup(cfg: Partial<MachineConfig> = {}) {
  const m = Machine.create({ cpus: 2, frames: 256, ...cfg });
  const cpus = [new Cpu(m.views, 0), new Cpu(m.views, 1)];
  return { m, cpus };
}

function mapData(m: Machine, asid: number, vpn: number, flags: number = Pte.WRITE): number {
  const f = m.alloc.alloc(FrameKind.DATA, asid);
  expect(m.pt.map(asid, vpn, f, flags)).toBe(true);
  return f;
}

describe('page walk, fill and lookup', () => {
  it('misses, walks three levels, fills, then hits', () => {
    const { m, cpus } = setup();
    m.pt.createSpace(0);
    const f = mapData(m, 0, 70);
    const cpu = cpus[0];
    cpu.switchMm(0);
    expect(cpu.access(Access.LOAD, 70, 3)).toBe(AccessResult.OK);
    expect(cpu.count('dtlbMisses')).toBe(1);
    expect(cpu.count('walks')).toBe(1);
    expect(cpu.access(Access.LOAD, 70, 4)).toBe(AccessResult.OK);
    expect(cpu.count('dtlbHits')).toBe(1);
    const d = m.caches(0).filter((e) => e.cache === 'dtlb');
    expect(d).toHaveLength(1);
    expect(d[0]).toMatchObject({ asid: 0, vpn: 70, gen: 1 });
    expect(d[0].value & 0xfffff).toBe(f);
    // The walker set the young bit in the PTE; a load does not set dirty.
    expect(m.pt.pte(0, 70) & Pte.YOUNG).toBeTruthy();
    expect(m.pt.pte(0, 70) & Pte.DIRTY).toBe(0);
  });

  it('a store sets dirty, re-walking through a clean entry', () => {
    const { m, cpus } = setup();
    m.pt.createSpace(0);
    const f = mapData(m, 0, 5);
    const cpu = cpus[0];
    cpu.switchMm(0);
    cpu.access(Access.LOAD, 5, 0);
    expect(cpu.access(Access.STORE, 5, 1, 1234)).toBe(AccessResult.OK);
    expect(cpu.count('walks')).toBe(2);
    expect(m.pt.pte(0, 5) & Pte.DIRTY).toBeTruthy();
    expect(m.i32[m.layout.word(f, 1)]).toBe(1234);
    cpu.access(Access.STORE, 5, 2, 1);
    expect(cpu.count('walks')).toBe(2);
  });

  it('faults on unmapped pages, stores to read-only pages and fetches from non-exec pages', () => {
    const { m, cpus } = setup();
    m.pt.createSpace(0);
    mapData(m, 0, 1, 0);
    mapData(m, 0, 2, Pte.EXEC);
    const cpu = cpus[0];
    cpu.switchMm(0);
    expect(cpu.access(Access.LOAD, 9, 0)).toBe(AccessResult.FAULT);
    expect(cpu.access(Access.STORE, 1, 0)).toBe(AccessResult.FAULT);
    expect(cpu.access(Access.FETCH, 1, 0)).toBe(AccessResult.FAULT);
    expect(cpu.access(Access.FETCH, 2, 0)).toBe(AccessResult.OK);
    expect(cpu.count('faults')).toBe(3);
    // Instruction fetches fill the I-TLB (non-exec translations are cached too,
    // as ARM caches XN entries); the refused store cached its read-only translation in the D-TLB.
    expect(m.caches(0).filter((e) => e.cache === 'itlb').map((e) => e.vpn).sort()).toEqual([1, 2]);
    expect(m.caches(0).filter((e) => e.cache === 'dtlb').map((e) => e.vpn)).toEqual([1]);
  });

  it('tags entries with the address space: the same vpn in two spaces coexists', () => {
    const { m, cpus } = setup();
    m.pt.createSpace(0);
    m.pt.createSpace(1);
    const f0 = mapData(m, 0, 7);
    const f1 = mapData(m, 1, 7);
    const cpu = cpus[0];
    cpu.switchMm(0);
    cpu.access(Access.LOAD, 7, 0);
    cpu.switchMm(1);
    cpu.access(Access.LOAD, 7, 0);
    cpu.switchMm(0);
    cpu.access(Access.LOAD, 7, 0);
    cpu.switchMm(1);
    cpu.access(Access.LOAD, 7, 0);
    expect(cpu.count('dtlbMisses')).toBe(2);
    expect(cpu.count('dtlbHits')).toBe(2);
    const d = m.caches(0).filter((e) => e.cache === 'dtlb');
    expect(d.map((e) => [e.asid, e.value & 0xfffff]).sort()).toEqual([
      [0, f0],
      [1, f1],
    ]);
    // switch_mm recorded this CPU in both cpumasks.
    expect(m.cpumask(0)).toBe(1);
    expect(m.cpumask(1)).toBe(1);
  });

  it('evicts round-robin within a set', () => {
    const { m, cpus } = setup({ dtlb: { sets: 4, ways: 2 } });
    m.pt.createSpace(0);
    // vpns 0, 4, 8 share set 0.
    for (const v of [0, 4, 8]) mapData(m, 0, v);
    const cpu = cpus[0];
    cpu.switchMm(0);
    for (const v of [0, 4, 8]) cpu.access(Access.LOAD, v, 0);
    expect(m.caches(0).filter((e) => e.cache === 'dtlb').map((e) => e.vpn).sort((a, b) => a - b)).toEqual([4, 8]);
    cpu.access(Access.LOAD, 4, 0);
    expect(cpu.count('dtlbHits')).toBe(1);
    cpu.access(Access.LOAD, 0, 0);
    expect(cpu.count('dtlbMisses')).toBe(4);
    // The next victim was way 1 (vpn 4), after way 0 (vpn 0) went for vpn 8.
    expect(m.caches(0).filter((e) => e.cache === 'dtlb').map((e) => e.vpn).sort((a, b) => a - b)).toEqual([0, 8]);
  });

  it('caches table pointers in the walk cache and uses them', () => {
    const { m, cpus } = setup();
    m.pt.createSpace(0);
    mapData(m, 0, 64);
    mapData(m, 0, 65);
    const cpu = cpus[0];
    cpu.switchMm(0);
    cpu.access(Access.LOAD, 64, 0);
    cpu.access(Access.LOAD, 65, 0);
    expect(cpu.count('walkCacheHits')).toBe(1);
    const wc = m.caches(0).filter((e) => e.cache === 'walk');
    expect(wc.map((e) => [e.level, e.vpn]).sort()).toEqual([
      [1, 64],
      [2, 0],
    ]);
    expect(wc.find((e) => e.level === 1)!.value).toBe(m.pt.table(0, 64, 1));
  });

  it('drops covering walk-cache entries on a leaf flush only when the hardware does', () => {
    for (const leafDropsWalkCache of [true, false]) {
      const { m, cpus } = setup({ leafDropsWalkCache });
      m.pt.createSpace(0);
      mapData(m, 0, 64);
      const cpu = cpus[0];
      cpu.switchMm(0);
      cpu.access(Access.LOAD, 64, 0);
      cpu.flushLocal({ kind: FlushKind.RANGE, asid: 0, start: 64, end: 65, which: Which.DTLB });
      const left = m.caches(0);
      expect(left.filter((e) => e.cache === 'dtlb')).toHaveLength(0);
      expect(left.filter((e) => e.cache === 'walk')).toHaveLength(leafDropsWalkCache ? 0 : 2);
      // A non-leaf flush always drops them.
      cpu.flushLocal({ kind: FlushKind.RANGE, asid: 0, start: 64, end: 65, which: Which.WALK });
      expect(m.caches(0)).toHaveLength(0);
    }
  });

  it('a range flush removes exactly the entries of its range and address space', () => {
    const { m, cpus } = setup({ walkCache: 0 });
    m.pt.createSpace(0);
    m.pt.createSpace(1);
    const cpu = cpus[0];
    for (const asid of [0, 1]) {
      cpu.switchMm(asid);
      for (let v = 10; v < 20; v++) {
        mapData(m, asid, v);
        cpu.access(Access.LOAD, v, 0);
      }
    }
    cpu.flushLocal({ kind: FlushKind.RANGE, asid: 0, start: 12, end: 15, which: Which.DTLB });
    const left = m.caches(0).map((e) => `${e.asid}:${e.vpn}`).sort();
    const want: string[] = [];
    for (const asid of [0, 1]) for (let v = 10; v < 20; v++) if (asid === 1 || v < 12 || v >= 15) want.push(`${asid}:${v}`);
    expect(left).toEqual(want.sort());
    expect(m.counters(0).invalidatedDtlb).toBe(3);
  });
});

describe('the checker, single-threaded', () => {
  it('a stale entry to a freed frame is a violation; to the same frame reallocated too', () => {
    const { m, cpus } = setup();
    m.pt.createSpace(0);
    const f = mapData(m, 0, 3);
    const [c0, c1] = cpus;
    c1.switchMm(0);
    // A store fills a dirty entry: later stores hit it without a re-walk.
    expect(c1.access(Access.STORE, 3, 0, 1)).toBe(AccessResult.OK);
    m.pt.unmap(0, 3);
    c0.freeFrame(f);
    expect(c1.access(Access.LOAD, 3, 0)).toBe(AccessResult.VIOLATION);
    const g = m.alloc.alloc(FrameKind.DATA, 5);
    expect(g).toBe(f); // LIFO: the frame just freed comes back first
    expect(c1.access(Access.STORE, 3, 0, 9)).toBe(AccessResult.VIOLATION);
    const v = m.violations();
    expect(v.total).toBe(2);
    expect(v.records[0]).toMatchObject({ cpu: 1, vpn: 3, frame: f, frameKind: FrameKind.FREE, genAtFill: 1, genNow: 1, ownerBefore: 0, ownerNow: 0 });
    expect(v.records[1]).toMatchObject({ cpu: 1, vpn: 3, frame: f, frameKind: FrameKind.DATA, genAtFill: 1, genNow: 2, ownerBefore: 0, ownerNow: 5 });
    expect(v.records[1].freedBy.cpu).toBe(0);
  });

  it('a walker reading a freed table through a walk-cache pointer is a violation', () => {
    const { m, cpus } = setup({ leafDropsWalkCache: false, flush: 'broadcast' });
    m.pt.createSpace(0);
    mapData(m, 0, 0);
    mapData(m, 0, 1);
    const [c0, c1] = cpus;
    c1.switchMm(0);
    c1.access(Access.LOAD, 0, 0);
    // Unhook and free the PTE table with only a leaf flush: the walk cache keeps the pointer.
    const pmd = m.pt.table(0, 0, 2);
    const pte = m.pt.table(0, 0, 1);
    m.pt.clearEntry(pmd, 0);
    c0.flush({ kind: FlushKind.RANGE, asid: 0, start: 0, end: 2, which: Which.DTLB }, 0b10);
    c0.freeFrame(pte);
    c1.speculativeWalk(1, false);
    const v = m.violations();
    expect(v.total).toBe(1);
    expect(v.records[0]).toMatchObject({ kind: 3, cpu: 1, frame: pte, level: 1, frameKind: FrameKind.FREE });
  });

  it('logs past capacity only as an overflow count', () => {
    const { m, cpus } = setup({ violationLogSize: 2 });
    m.pt.createSpace(0);
    const f = mapData(m, 0, 3);
    cpus[1].switchMm(0);
    cpus[1].access(Access.LOAD, 3, 0);
    m.pt.unmap(0, 3);
    cpus[0].freeFrame(f);
    for (let i = 0; i < 5; i++) cpus[1].access(Access.LOAD, 3, 0);
    const v = m.violations();
    expect(v.total).toBe(5);
    expect(v.records).toHaveLength(2);
    expect(v.overflow).toBe(3);
  });
});
