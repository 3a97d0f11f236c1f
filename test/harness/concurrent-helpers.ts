import { expect } from 'vitest';
import type { CpuPool } from '../../src/harness/pool.js';
import type { CombinationReport } from '../../src/harness/report.js';
import { runScenario } from '../../src/harness/runner.js';
import { type Combination, type CoordinatorCommand, type KernelCpu, type Scenario, defineScenario } from '../../src/harness/scenario.js';
import type { Workload } from '../../src/machine/workload.js';
import { shortOrLong } from '../long.js';

/**
 * Scenarios built in tests, with kernel code on several CPUs under policies
 * that are correct: any violation they show is a false positive (a bug in
 * smpsim's locking, shared mm or checks), not a kernel race.
 */

/** The correct policies, each on hardware it ran on. */
export const CORRECT: Combination[] = [
  { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
  { arch: 'linux-6', hw: 'x86', expect: 'clean' },
  { arch: 'arm-2.6.38', hw: 'armv7-mp', expect: 'clean' },
];

/**
 * Iterations of each false-positive hunt below, per combination: short in
 * `npm test`, the long hunt (100 stress, 30 pct) in `npm run test:long`.
 */
export const STRESS_ITERATIONS = shortOrLong(10, 100);
export const PCT_ITERATIONS = shortOrLong(4, 30);

/**
 * 16 entries a table (machine.wordsPerPage), so each range below of 16
 * pages has a PTE table of its own: A, B, C, E adjacent, D further up (all
 * under one PMD table).
 */
export const MACHINE = { frames: 512, wordsPerPage: 16 };
export const A = { start: 0, pages: 16 };
export const B = { start: 16, pages: 16 };
export const C = { start: 32, pages: 16 };
export const E = { start: 48, pages: 16 };
export const D = { start: 64, pages: 16 };
/** Steps the other CPUs run before the first call (TLBs warm). */
export const WARM = 50;

export type Range = { start: number; pages: number };

/** Setup: mm 0 with these ranges mapped (writable) and faulted in. */
export function mapped(...rs: Range[]): CoordinatorCommand[] {
  return [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, ...rs.map((r): CoordinatorCommand => ({ op: 'mmap', asid: 0, start: r.start, pages: r.pages, write: true }))];
}

export function call(op: 'munmap' | 'madvise', start: number, end: number): CoordinatorCommand {
  return { op, asid: 0, start, end };
}

/**
 * A 4-CPU scenario on CORRECT whose workloads load and store to `ranges`.
 * Stress: they run until the iteration ends. pct: a short step budget (then
 * they idle, taking IPIs), longer than every waitSteps, to keep controlled
 * iterations cheap.
 */
export function scenario(name: string, s: { setup: CoordinatorCommand[]; script: CoordinatorCommand[]; kernelCpus: KernelCpu[]; ranges: Range[] }, pct: boolean): Scenario {
  const workload = (): Workload => ({ spaces: [0], ranges: s.ranges, mix: { load: 2, store: 1 }, ...(pct ? { steps: 300 } : {}) });
  return defineScenario({ name, title: name, description: name, cpus: 4, machine: MACHINE, setup: s.setup, script: s.script, kernelCpus: s.kernelCpus, workload, combinations: CORRECT });
}

export function summary(r: CombinationReport): string {
  return `${r.archLabel} / ${r.hw} (${r.iterations} iterations): ${r.violations} violations${r.firstViolation ? `; first: ${JSON.stringify(r.firstViolation)}` : ''}`;
}

/** Run every combination of `s` for `iterations` and expect no violation at all. */
export async function expectClean(pool: CpuPool, s: Scenario, mode: 'stress' | 'pct', iterations: number, seed = 1): Promise<CombinationReport[]> {
  const report = await runScenario({ scenario: s, iterations, seed, pool, mode });
  expect(report.combinations).toHaveLength(s.combinations.length);
  for (const r of report.combinations) {
    expect(r.violations, `${s.name}, ${mode}, seed ${seed}: ${summary(r)}`).toBe(0);
    expect(r.iterations).toBe(iterations);
    expect(r.asExpected).toBe(true);
  }
  return report.combinations;
}
