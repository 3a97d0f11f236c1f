import { describe, expect, it } from 'vitest';
import { CombinationRunner, iterationSeed } from '../../src/harness/runner.js';
import { staleAfterReturn } from '../../src/kernel/stale.js';
import { usePool } from '../helpers.js';
import { A, B, CORRECT, E, PCT_ITERATIONS, STRESS_ITERATIONS, WARM, call, expectClean, mapped, scenario } from './concurrent-helpers.js';

/**
 * Three kernel CPUs: faults land inside a madvise(DONTNEED) of the same
 * range. The pages they map were mapped after the madvise began: not its to
 * remove, so its "no stale translation after return" check must let TLB
 * entries of them be (kernel/stale.ts skips a mapping made after the call
 * began). Under correct policies no violation may show.
 *
 * CPU 0 madvises [0, 64): A, B, and E, which CPU 2 maps (mmap with fault)
 * just before: CPU 0 starts once CPU 2 holds mmap_lock for that mmap, so E
 * is in the list CPU 0 reads, and CPU 2 faults E in (mmap_lock for read)
 * while CPU 0 zaps it. CPU 1 faults A in again as soon as CPU 0 has zapped
 * it (A's tlb_end_vma); CPU 0 flushes A only once that fault has returned,
 * then stays a while in B's tlb_end_vma, so CPUs 1 to 3 fill TLB entries
 * from the refaulted pages of A before CPU 0's call returns (B's and E's
 * flushes do not cover A). CPUs 1 and 2 run the workload after their calls.
 */
const faults = (pct: boolean) =>
  scenario(
    'faults inside a madvise',
    {
      setup: mapped(A, B),
      script: [
        { op: 'waitSteps', steps: WARM },
        { op: 'waitPoint', cpu: 2, point: 'mmap/mmap_lock' },
        { op: 'holdPoint', point: 'madvise(DONTNEED)/tlb_finish_mmu', until: { cpu: 1, point: 'fault/return' } },
        { op: 'holdPoint', point: 'madvise(DONTNEED)/tlb_end_vma', steps: 200, times: 2 },
        call('madvise', 0, 64),
      ],
      kernelCpus: [
        {
          cpu: 1,
          script: [{ op: 'switchMm', asid: 0 }, { op: 'waitPoint', cpu: 0, point: 'madvise(DONTNEED)/tlb_end_vma' }, { op: 'fault', asid: 0, start: A.start, end: A.start + A.pages }],
          then: 'workload',
        },
        {
          cpu: 2,
          script: [{ op: 'switchMm', asid: 0 }, { op: 'waitSteps', steps: WARM }, { op: 'mmap', asid: 0, start: E.start, pages: E.pages, write: true }],
          then: 'workload',
        },
      ],
      ranges: [A, B, E],
    },
    pct,
  );

const pool = usePool();

describe('three kernel CPUs: faults land inside a madvise', () => {
  it(`clean over ${STRESS_ITERATIONS} stress and ${PCT_ITERATIONS} pct iterations on each combination`, async () => {
    await expectClean(pool(), faults(false), 'stress', STRESS_ITERATIONS);
    await expectClean(pool(), faults(true), 'pct', PCT_ITERATIONS);
  });

  it('the race is staged: CPU 1 maps all of A again, and CPU 2 maps E, during CPU 0 madvise', async () => {
    let refilled = 0;
    for (const c of CORRECT) {
      const runner = new CombinationRunner(faults(false), c, 4, pool(), 'stress');
      await runner.bind();
      for (let it = 0; it < 5; it++) {
        const out = await runner.iteration(it, iterationSeed(5, it));
        expect(out.violations.total).toBe(0);
        const [k0, k1, k2] = out.kernels;
        // CPU 1 found every page of A zapped, and mapped it again.
        expect(k1.script.find((r) => r.op === 'fault')!.pages).toBe(A.pages);
        // CPU 0 zapped A and B at least (and whatever of E CPU 2 had faulted in yet); CPU 2 faulted E in.
        expect(k0.script.find((r) => r.op === 'madvise')!.pages).toBeGreaterThanOrEqual(A.pages + B.pages);
        expect(k2.script.find((r) => r.op === 'mmap')!.pages).toBeGreaterThan(0);
        // No stale entry was left for CPU 0's check to find.
        expect(k0.script.flatMap((r) => r.stale ?? [])).toEqual([]);
        // TLB entries of A now: all from the refaulted pages (a check that skipped nothing would list them).
        refilled += staleAfterReturn(runner.machine, 0, A.start, A.start + A.pages).length;
      }
    }
    expect(refilled).toBeGreaterThan(0);
  });
});
