import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/harness/runner.js';
import { defineScenario } from '../../src/harness/scenario.js';
import { usePool } from '../helpers.js';

const pool = usePool();

/** Two kernel CPUs: CPU 1 madvises, then runs its workload; CPU 0 waits for CPU 1's call to return, then munmaps. */
const scenario = defineScenario({
  name: 'test-kernel-cpu-then-workload',
  title: 'a kernel CPU that goes on to run a workload',
  description: 'test',
  cpus: 2,
  machine: { frames: 256 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: 0, pages: 16, write: true },
  ],
  script: [
    { op: 'waitPoint', cpu: 1, point: 'madvise(DONTNEED)/return' },
    { op: 'spin', steps: 200 },
    { op: 'munmap', asid: 0, start: 0, end: 16 },
  ],
  kernelCpus: [{ cpu: 1, script: [{ op: 'switchMm', asid: 0 }, { op: 'madvise', asid: 0, start: 0, end: 8 }], then: 'workload' }],
  workload: () => ({ spaces: [0], ranges: [{ start: 0, pages: 16 }], mix: { load: 1, store: 1 } }),
  combinations: [
    { arch: 'linux-6', hw: 'arm64', expect: 'clean' },
    { arch: 'arm-2.6.38', hw: 'arm11mpcore', expect: 'clean' },
  ],
});

describe('kernel CPUs', () => {
  for (const mode of ['stress', 'pct'] as const) {
    it(`a kernel CPU runs its script, then its workload, until the last kernel script ends (${mode})`, async () => {
      const r = await runScenario({ scenario, pool: pool(), iterations: 10, seed: 9, mode });
      for (const c of r.combinations) {
        expect(c.violations, c.archLabel).toBe(0);
        // Both calls of every iteration are counted, CPU 1's included.
        expect(c.kernel.frees.data, c.archLabel).toBe(16 * c.iterations);
        // CPU 1 is the only CPU with a workload: any access is its, made after its madvise.
        expect(c.machine.accesses, c.archLabel).toBeGreaterThan(0);
      }
    });
  }

  it('a waitPoint on a CPU that ends its script without reaching the point fails the run with one line naming both', async () => {
    const bad = defineScenario({ ...scenario, name: 'test-unreached', script: [{ op: 'waitPoint', cpu: 1, point: 'munmap/return' }] });
    await expect(runScenario({ scenario: bad, pool: pool(), iterations: 1, combinations: [scenario.combinations[0]] })).rejects.toThrow(/CPU 0 waits for CPU 1 to reach munmap\/return, but CPU 1 has finished its script without reaching it/);
  });
});
