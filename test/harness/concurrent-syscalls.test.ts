import { describe, expect, it } from 'vitest';
import nestedGatherFreedTables from '../../scenarios/nested-gather-freed-tables.js';
import { runScenario } from '../../src/harness/runner.js';
import type { Combination, CoordinatorCommand, Scenario } from '../../src/harness/scenario.js';
import { usePool } from '../helpers.js';
import { A, B, C, CORRECT, D, PCT_ITERATIONS, STRESS_ITERATIONS, WARM, call, expectClean, mapped, scenario, summary } from './concurrent-helpers.js';

/**
 * munmap and madvise(DONTNEED) on one mm from two kernel CPUs at once, on
 * disjoint and on overlapping ranges, while CPUs 2 and 3 load and store to
 * those ranges, under correct policies (linux-6 on arm64 and x86, arm-2.6.38
 * on armv7-mp): no violation may show.
 */

const pool = usePool();

/**
 * Two kernel CPUs, two calls each. Round 1 is nested where the locking
 * allows it: CPU 0's munmap stays in tlb_end_vma until CPU 1's madvise has
 * begun its gather, and CPU 1's stays in its tlb_end_vma until CPU 0's
 * munmap has returned (a policy whose munmap keeps mmap_lock for write makes
 * CPU 1 wait for the lock instead: the hold ends and the calls run in turn).
 * Round 2 runs free, in whatever order the threads (or the PCT schedule) give.
 */
function pairs(name: string, cpu0: [CoordinatorCommand, CoordinatorCommand], cpu1: [CoordinatorCommand, CoordinatorCommand], pct: boolean): Scenario {
  return scenario(
    name,
    {
      setup: mapped(A, B, C, D),
      script: [{ op: 'waitSteps', steps: WARM }, { op: 'holdPoint', point: 'munmap/tlb_end_vma', until: { cpu: 1, point: 'madvise(DONTNEED)/tlb_gather_mmu' } }, ...cpu0],
      kernelCpus: [
        {
          cpu: 1,
          script: [
            { op: 'switchMm', asid: 0 },
            { op: 'waitSteps', steps: WARM },
            { op: 'waitPoint', cpu: 0, point: 'munmap/mmap_lock' },
            { op: 'holdPoint', point: 'madvise(DONTNEED)/tlb_end_vma', until: { cpu: 0, point: 'munmap/return' } },
            ...cpu1,
          ],
        },
      ],
      ranges: [A, B, C, D],
    },
    pct,
  );
}

/** Round 1: munmap A | madvise B; round 2: madvise C | munmap D. */
const disjoint = (pct: boolean) => pairs('disjoint ranges', [call('munmap', 0, 16), call('madvise', 32, 48)], [call('madvise', 16, 32), call('munmap', 64, 80)], pct);
/**
 * Round 1: munmap [0,24) | madvise [8,40) (both take [8,24), of A and B);
 * round 2: madvise [40,80) | munmap [32,72) (both take [40,72): part of C, the hole, most of D).
 */
const overlapping = (pct: boolean) => pairs('overlapping ranges', [call('munmap', 0, 24), call('madvise', 40, 80)], [call('madvise', 8, 40), call('munmap', 32, 72)], pct);

describe('two kernel CPUs, munmap and madvise(DONTNEED) on one mm, correct policies', () => {
  for (const make of [disjoint, overlapping]) {
    it(`${make(false).name}: clean over ${STRESS_ITERATIONS} stress and ${PCT_ITERATIONS} pct iterations on each combination`, async () => {
      const stress = await expectClean(pool(), make(false), 'stress', STRESS_ITERATIONS);
      // Every mapped page (A to D: 64) lies in some call's range and is freed exactly once, whichever call gets it.
      for (const r of stress) expect(r.kernel.frees.data, summary(r)).toBe(64 * r.iterations);
      const pct = await expectClean(pool(), make(true), 'pct', PCT_ITERATIONS);
      for (const r of pct) expect(r.kernel.frees.data, summary(r)).toBe(64 * r.iterations);
    });
  }
});

describe('a holdPoint whose target waits for a lock the holder holds', () => {
  // arm-2.6.38's munmap keeps mmap_lock for write: CPU 1's madvise waits for
  // it while CPU 0 holds munmap/tlb_finish_mmu until CPU 1's gather starts.
  const c: Combination = CORRECT.find((x) => x.arch === 'arm-2.6.38')!;
  for (const mode of ['stress', 'pct'] as const) {
    it(`ends instead of deadlocking: nested-gather-freed-tables on arm-2.6.38 runs clean (${mode})`, async () => {
      const report = await runScenario({ scenario: nestedGatherFreedTables, combinations: [c], iterations: 5, seed: 3, pool: pool(), mode });
      const r = report.combinations[0];
      expect(r.iterations).toBe(5);
      expect(r.violations, summary(r)).toBe(0);
      // Both calls ran in full: the munmap freed its 48 pages, the madvise its 8.
      expect(r.kernel.frees.data).toBe((48 + 8) * 5);
    });
  }
});

describe('kernel points across CPUs', () => {
  it("a waitPoint on 'madvise(DONTNEED)/return' ends when that call returns, though its CPU's script goes on", async () => {
    // CPU 0 waits for CPU 1's fault after its madvise; CPU 1 faults only once CPU 0's madvise has returned.
    const s = scenario(
      'return point',
      {
        setup: mapped(A),
        script: [call('madvise', 0, 16), { op: 'waitPoint', cpu: 1, point: 'fault/fault_in' }],
        kernelCpus: [{ cpu: 1, script: [{ op: 'switchMm', asid: 0 }, { op: 'waitPoint', cpu: 0, point: 'madvise(DONTNEED)/return' }, { op: 'fault', asid: 0, start: 0, end: 16 }] }],
        ranges: [A],
      },
      false,
    );
    for (const mode of ['stress', 'pct'] as const) {
      const r = await expectClean(pool(), s, mode, 5);
      for (const c of r) expect(c.kernel.frees.data).toBe(16 * 5);
    }
  });

  it('holds stage the nesting of nested-gather-freed-tables in every iteration, in pct mode as in stress (linux-6: a forced whole-mm flush each)', async () => {
    const c: Combination = { arch: 'linux-6', hw: 'arm64', expect: 'clean' };
    for (const mode of ['stress', 'pct'] as const) {
      const report = await runScenario({ scenario: nestedGatherFreedTables, combinations: [c], iterations: 6, seed: 1, pool: pool(), mode });
      const r = report.combinations[0];
      expect(r.violations, summary(r)).toBe(0);
      // CPU 0's munmap finishes while CPU 1's madvise gather is open: mm_tlb_flush_nested, a full-mm flush.
      expect(r.kernel.flushes.mm, `${mode}: ${summary(r)}`).toBe(6);
    }
  });
});
