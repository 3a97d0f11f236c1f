import { describe, expect, it } from 'vitest';
import { CombinationRunner, iterationSeed } from '../../src/harness/runner.js';
import { FileCache } from '../../src/kernel/file-cache.js';
import { Cpu } from '../../src/machine/cpu.js';
import { FrameKind, PTE_FRAME_MASK, Pte } from '../../src/machine/constants.js';
import { F } from '../../src/machine/layout.js';
import type { Machine } from '../../src/machine/machine.js';
import { usePool } from '../helpers.js';
import { shortOrLong } from '../long.js';
import { CORRECT, PCT_ITERATIONS, STRESS_ITERATIONS, WARM, expectClean, scenario } from './concurrent-helpers.js';

/**
 * Three kernel CPUs on one shared file mapping, under correct policies: a
 * truncate, faults and an mremap at once. Any violation is a false positive
 * (smpsim's page cache, its references, the page lock or i_mmap), and after
 * every iteration the file and the page tables must agree: no page past the
 * new size is cached or mapped anywhere, and each cached page has exactly
 * the references of the cache and of the PTEs that map it.
 *
 * File 0 (16 pages) is mapped at A = [0, 16) (faulted in) and at C = [32,
 * 48) (not faulted in). CPU 0 truncates the file to 4 pages; CPU 1 faults C
 * in, twice, racing it (a fault that holds a page across the truncate's
 * unmap makes truncate_inode_pages unmap it again); CPU 2 mremaps A to
 * [64, 80) at the same time.
 */
const SIZE = 4;
const A = { start: 0, pages: 16 };
const C = { start: 32, pages: 16 };
const MOVED = 64;

const race = (pct: boolean) =>
  scenario(
    'truncate, faults and mremap on one file',
    {
      setup: [
        { op: 'createMm', asid: 0 },
        { op: 'switchMm', asid: 0 },
        { op: 'mmap', asid: 0, start: A.start, pages: A.pages, file: 0, write: true },
        { op: 'mmap', asid: 0, start: C.start, pages: C.pages, file: 0, write: true, fault: false },
      ],
      script: [
        { op: 'waitSteps', steps: WARM },
        { op: 'truncate', file: 0, pages: SIZE },
      ],
      kernelCpus: [
        {
          cpu: 1,
          script: [
            { op: 'switchMm', asid: 0 },
            { op: 'fault', asid: 0, start: C.start, end: C.start + C.pages },
            { op: 'fault', asid: 0, start: C.start, end: C.start + C.pages },
          ],
          then: 'workload',
        },
        { cpu: 2, script: [{ op: 'switchMm', asid: 0 }, { op: 'mremap', asid: 0, start: A.start, pages: A.pages, newStart: MOVED }], then: 'workload' },
      ],
      ranges: [A, C, { start: MOVED, pages: A.pages }],
    },
    pct,
  );

/** The file and the page tables agree (see above); returns the pages mapped at C. */
function consistent(machine: Machine): number {
  const cpu = new Cpu(machine.views, 0);
  const fc = new FileCache(cpu, 0);
  const i32 = machine.i32;
  const L = machine.layout;
  expect(fc.size).toBe(SIZE);
  const ptes = new Map<number, number>();
  for (const base of [A.start, C.start, MOVED]) {
    for (let v = base; v < base + 16; v++) {
      const pte = cpu.pt.pte(0, v);
      if (!(pte & Pte.PRESENT)) continue;
      expect(v - base, `vpn ${v} maps a page past the file's size`).toBeLessThan(SIZE);
      const fr = pte & PTE_FRAME_MASK;
      ptes.set(fr, (ptes.get(fr) ?? 0) + 1);
    }
  }
  let cached = 0;
  for (let i = 0; i < 16; i++) {
    const fr = fc.peek(i);
    if (i >= SIZE) {
      expect(fr, `page ${i} still cached`).toBe(-1);
      continue;
    }
    if (fr < 0) continue;
    cached++;
    expect(Atomics.load(i32, L.frame(fr, F.KIND))).toBe(FrameKind.DATA);
    expect(Atomics.load(i32, L.frame(fr, F.MAPCOUNT))).toBe(ptes.get(fr) ?? 0);
    expect(Atomics.load(i32, L.frame(fr, F.REFS))).toBe(1 + (ptes.get(fr) ?? 0));
    expect(Atomics.load(i32, L.frame(fr, F.PAGE_LOCK))).toBe(0);
  }
  expect(fc.nrPages).toBe(cached);
  // Every mapped frame is a cached page.
  for (const fr of ptes.keys()) expect(Array.from({ length: SIZE }, (_, i) => fc.peek(i))).toContain(fr);
  let atC = 0;
  for (let v = C.start; v < C.start + 16; v++) if (cpu.pt.pte(0, v) & Pte.PRESENT) atC++;
  return atC;
}

const pool = usePool();
/** Iterations checked one by one for agreement, per combination and mode (10 in `npm run test:long`). */
const AGREEMENT_ITERATIONS = shortOrLong(4, 10);

describe('three kernel CPUs on one file: truncate, faults, mremap', () => {
  it(`clean over ${STRESS_ITERATIONS} stress and ${PCT_ITERATIONS} pct iterations on each combination`, async () => {
    await expectClean(pool(), race(false), 'stress', STRESS_ITERATIONS);
    await expectClean(pool(), race(true), 'pct', PCT_ITERATIONS);
  });

  it('leaves the file and the page tables in agreement after every iteration, in stress and pct mode', async () => {
    for (const c of CORRECT) {
      for (const mode of ['stress', 'pct'] as const) {
        const runner = new CombinationRunner(race(mode === 'pct'), c, 4, pool(), mode);
        await runner.bind();
        for (let it = 0; it < AGREEMENT_ITERATIONS; it++) {
          const out = await runner.iteration(it, iterationSeed(7, it));
          expect(out.violations.total).toBe(0);
          const atC = consistent(runner.machine);
          expect(atC).toBeLessThanOrEqual(SIZE);
          // CPU 2's mremap moved what was left of A.
          for (let v = A.start; v < A.start + A.pages; v++) expect(runner.machine.pt.pte(0, v) & Pte.PRESENT).toBe(0);
        }
      }
    }
  });
});
