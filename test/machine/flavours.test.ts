import { describe, expect, it } from 'vitest';
import { Access, Cpu, FlushKind, FrameKind, Machine, Pte, Which } from '../../src/machine/index.js';
import { resolveConfig } from '../../src/machine/config.js';
import { FLAVOURS } from '../../src/machine/flavours.js';

/** A machine built from a flavour, with CPU objects in this thread (CPU 1 is idle: quiescent, taking no IPIs). */
function onFlavour(hw: string) {
  const m = Machine.create(resolveConfig({ ...FLAVOURS[hw].config, cpus: 2, frames: 128, ipiTimeoutMs: 100 }));
  const cpus = [new Cpu(m.views, 0), new Cpu(m.views, 1)];
  m.pt.createSpace(0);
  for (const v of [0, 1]) m.pt.map(0, v, m.alloc.alloc(FrameKind.DATA, 0), Pte.WRITE);
  cpus[1].switchMm(0);
  cpus[1].access(Access.LOAD, 0, 0);
  return { m, cpus };
}

describe('hardware flavours of the seed systems', () => {
  it('sh4: a software-refilled TLB caches no table pointer and fills nothing it was not asked for', () => {
    const { m } = onFlavour('sh4');
    expect(m.config).toMatchObject({ flush: 'ipi', walkCache: 0, speculation: 0 });
    // The demand miss filled the D-TLB and nothing else.
    expect(m.caches(1).map((e) => e.cache)).toEqual(['dtlb']);
  });

  it('ia64: the VHPT translation (walk cache) survives a purge of the user range and goes with a purge naming it', () => {
    const { m, cpus } = onFlavour('ia64');
    expect(m.config).toMatchObject({ flush: 'range-broadcast', leafDropsWalkCache: false });
    expect(m.config.speculation).toBeGreaterThan(0);
    expect(m.caches(1).filter((e) => e.cache === 'walk').length).toBeGreaterThan(0);
    // ptc.ga of the user range: a broadcast that reaches the idle CPU 1 without an IPI.
    cpus[0].flush({ kind: FlushKind.RANGE, asid: 0, start: 0, end: 2, which: Which.DTLB | Which.ITLB }, 0b11);
    expect(cpus[0].count('ipisSent')).toBe(0);
    expect(cpus[0].count('broadcastsSent')).toBe(1);
    expect(m.caches(1).map((e) => e.cache)).toEqual(['walk', 'walk']);
    // The purge of ia64_thash(start)..ia64_thash(end): the linear page table's translations go.
    cpus[0].flush({ kind: FlushKind.RANGE, asid: 0, start: 0, end: 2, which: Which.WALK }, 0b11);
    expect(m.caches(1)).toEqual([]);
  });

  it('ia64: a whole-mm flush goes by IPI, which an idle CPU never acknowledges', () => {
    const { cpus } = onFlavour('ia64');
    expect(() => cpus[0].flush({ kind: FlushKind.ASID, asid: 0, start: 0, end: 0, which: Which.ALL }, 0b11)).toThrow(/CPU 1/);
    expect(cpus[0].count('ipisSent')).toBe(1);
  });

  it('each new flavour names its sources and deviations', () => {
    for (const hw of ['sh4', 'ia64']) {
      const p = FLAVOURS[hw].provenance;
      expect(p.files.length).toBeGreaterThan(0);
      expect(p.tree).not.toBe('');
      expect(p.deviations.length).toBeGreaterThan(0);
    }
  });

  it('rejects an unknown flush flavour in one line', () => {
    expect(() => resolveConfig({ flush: 'ptc.g' as never })).toThrow(/^flush must be ipi, broadcast, range-broadcast, got ptc.g$/);
  });
});
