import { describe, expect, it } from 'vitest';
import scenario from '../../scenarios/itlb-exec-policy.js';
import { usePool } from '../helpers.js';
import { comboLabel, runCombination, testExpectations } from './helpers.js';

const pool = usePool();

describe('scenario itlb-exec-policy (cost)', () => {
  testExpectations(scenario, {
    pool,
    seed: 1,
    caughtWithin: 0,
    kinds: [],
    exercised: (r) => {
      expect(r.kernel.frees.tables).toBe(2 * r.iterations);
      expect(r.machine.itlbMisses).toBeGreaterThan(0);
    },
  });

  it('flushes as each policy says: per-vma ranges plus whole-mm vs one range per munmap, I-TLB by exec flag or always', async () => {
    const its = 5;
    const byLabel = new Map<string, Awaited<ReturnType<typeof runCombination>>>();
    for (const c of scenario.combinations) byLabel.set(comboLabel(c), await runCombination(scenario, c, { pool: pool(), iterations: its, seed: 2 }));
    const g = byLabel.get('generic-2011-series / armv7-mp')!;
    const vmaExec = byLabel.get('generic-range:itlb=vma-exec / armv7-mp')!;
    const always = byLabel.get('generic-range:itlb=always / armv7-mp')!;
    const arm = byLabel.get('arm-2.6.38 / armv7-mp')!;
    for (const r of [arm, g, vmaExec, always]) expect(r.violations).toBe(0);
    // arm-2.6.38: end_vma range flush with the vma's flags, then one page at the freed table's address
    // with the last vma's flags (I-TLB for the text's munmap only).
    expect(arm.kernel.flushes).toMatchObject({ range: 2 * its, page: 2 * its, mm: 0, total: 4 * its, itlb: 2 * its });
    // generic-2011-series: end_vma range flush per munmap (D, then D+I for the text), and a whole-mm flush
    // in finish for the freed table (flush_tlb_mm counts as an I-TLB flush too).
    expect(g.kernel.flushes).toMatchObject({ range: 2 * its, mm: 2 * its, total: 4 * its, itlb: 3 * its });
    // generic-range: one range flush per munmap, covering the vma and its table's span.
    expect(vmaExec.kernel.flushes).toMatchObject({ range: 2 * its, mm: 0, total: 2 * its, itlb: its });
    expect(always.kernel.flushes).toMatchObject({ range: 2 * its, mm: 0, total: 2 * its, itlb: 2 * its });
    // Broadcast hardware: one broadcast per flush.
    expect(g.machine.broadcasts).toBe(4 * its);
    expect(vmaExec.machine.broadcasts).toBe(2 * its);
    // A whole-mm flush also drops the walk cache and the live heap's entries.
    expect(g.machine.entriesDropped.walk).toBeGreaterThan(vmaExec.machine.entriesDropped.walk);
    expect(g.machine.entriesDropped.dtlb).toBeGreaterThan(vmaExec.machine.entriesDropped.dtlb);
  });
});
