import { describe, expect, it } from 'vitest';
import { Access, AccessResult, Cpu, FrameKind, Machine, Pte } from '../../src/machine/index.js';
import { CpuOp, ViolationKind } from '../../src/machine/constants.js';
import { Ev, EV_FIELDS } from '../../src/machine/recorder.js';
import { Rng } from '../../src/machine/rng.js';
import { runWorkload } from '../../src/machine/runloop.js';
import { compileWorkload } from '../../src/machine/workload.js';

/**
 * The run loop counts TLB hits in batches (published at quantum boundaries
 * and when it returns): once runWorkload returns, every counter must say
 * exactly what the steps did, whatever step the run ended at.
 */

function machine() {
  const m = Machine.create({ cpus: 2, frames: 256, quantum: 64 });
  m.pt.createSpace(0);
  const map = (vpn: number, flags: number): number => {
    const f = m.alloc.alloc(FrameKind.DATA, 0);
    expect(m.pt.map(0, vpn, f, flags)).toBe(true);
    return f;
  };
  return { m, map };
}

/** Accesses of a recorded run by type, and how many of them faulted. */
function accessesOf(events: number[]): { byType: number[]; faults: number; fills: number } {
  const byType = [0, 0, 0];
  let faults = 0;
  let fills = 0;
  for (let i = 0; i < events.length; i += EV_FIELDS) {
    const kind = events[i + 2];
    if (kind === Ev.FILL) fills++;
    if (kind !== Ev.ACCESS) continue;
    if (events[i + 5] === AccessResult.FAULT) faults++;
    else byType[events[i + 3]]++;
  }
  return { byType, faults, fills };
}

describe('run loop counters', () => {
  // Step budgets that end mid-quantum, on a boundary, and inside the first quantum.
  for (const steps of [1000, 640, 50]) {
    it(`are exact after a run of ${steps} steps of loads, stores and fetches (hits, misses, faults on both paths)`, () => {
      const { m, map } = machine();
      // Pages 0-5 writable, 6-7 read-only (stores fault, on a miss and then on a hit),
      // 8-11 executable, 12-15 in the ranges but not mapped (faults on the miss path).
      for (let v = 0; v < 6; v++) map(v, Pte.WRITE);
      for (let v = 6; v < 8; v++) map(v, 0);
      for (let v = 8; v < 12; v++) map(v, Pte.EXEC);
      const w = compileWorkload(
        {
          spaces: [0],
          ranges: [
            { start: 0, pages: 8 },
            { start: 8, pages: 4, exec: true },
            { start: 12, pages: 4, write: false },
          ],
          mix: { load: 5, store: 3, fetch: 2 },
          speculation: 0,
          steps,
        },
        0,
        m.layout.vpnLimit,
      );
      const cpu = new Cpu(m.views, 1);
      const rec = cpu.startRecording(() => 0);
      expect(runWorkload(cpu, w, new Rng(11))).toBe(steps);
      const c = m.counters(1);
      const seen = accessesOf(rec.data);
      expect(c.steps).toBe(steps);
      // Every step was an access: each is a hit or a miss, and ends as a load, store, fetch or fault.
      expect(c.dtlbHits + c.dtlbMisses + c.itlbHits + c.itlbMisses).toBe(steps);
      expect(c.loads + c.stores + c.fetches + c.faults).toBe(steps);
      expect([c.loads, c.stores, c.fetches]).toEqual(seen.byType);
      expect(c.faults).toBe(seen.faults);
      expect(c.fills).toBe(seen.fills);
      expect(c.walks).toBe(c.dtlbMisses + c.itlbMisses);
      // The run exercised what it is meant to: hits of each kind, and faults.
      expect(c.dtlbHits).toBeGreaterThan(0);
      expect(c.itlbHits).toBeGreaterThan(0);
      expect(c.faults).toBeGreaterThan(0);
      expect(c.violations).toBe(0);
    });
  }

  it('a stale hit inside the run loop is a violation, counted and recorded as the load it was', () => {
    const { m, map } = machine();
    const f = map(3, Pte.WRITE);
    const cpu = new Cpu(m.views, 1);
    cpu.switchMm(0);
    // Fill the TLB, then free the frame with no flush: the entry is stale.
    expect(cpu.access(Access.LOAD, 3, 0)).toBe(AccessResult.OK);
    m.pt.unmap(0, 3);
    new Cpu(m.views, 0).freeFrame(f);
    const w = compileWorkload({ spaces: [0], ranges: [{ start: 3, pages: 1 }], mix: { load: 1, store: 0, fetch: 0 }, speculation: 0, steps: 100 }, 0, m.layout.vpnLimit);
    runWorkload(cpu, w, new Rng(5));
    const c = m.counters(1);
    const v = m.violations();
    expect(v.total).toBe(100);
    expect(c.violations).toBe(100);
    // A stale hit still made the load: counted as a hit and a load (one miss before the run).
    expect(c.dtlbHits).toBe(100);
    expect(c.loads).toBe(101);
    expect(v.records[0]).toMatchObject({ cpu: 1, vpn: 3, frame: f, frameKind: FrameKind.FREE, kind: ViolationKind.STALE_DATA, cpuOp: CpuOp.LOAD });
  });
});
