import { describe, expect, it } from 'vitest';
import parallelMadvDontneed from '../../scenarios/parallel-madv-dontneed.js';
import { CpuPool } from '../../src/harness/pool.js';
import { runScenario } from '../../src/harness/runner.js';
import type { CoordinatorCommand, Scenario } from '../../src/harness/scenario.js';
import { ScenarioError, parseScenario } from '../../src/harness/scenario-schema.js';

/**
 * The scenario schema and preflight refuse what cannot run, with one message
 * naming the field, before any thread starts (ScenarioError: `usage`, the
 * CLI's exit 2).
 */

/** A valid scenario with two kernel CPUs (CPU 0 and CPU 1). */
const base: Scenario = parallelMadvDontneed;

function refusal(x: unknown): ScenarioError {
  try {
    parseScenario(x, 'test');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    expect((e as ScenarioError).usage).toBe(true);
    return e as ScenarioError;
  }
  throw new Error('the scenario was accepted');
}

const withScript = (script: CoordinatorCommand[]): Scenario => ({ ...base, script });
const madvise: CoordinatorCommand = { op: 'madvise', asid: 0, start: 0, end: 48 };

describe('scenario schema: kernel CPUs and kernel points', () => {
  it('accepts the shipped two-kernel-CPU scenario', () => {
    expect(parseScenario(base, 'test').kernelCpus?.map((k) => k.cpu)).toEqual([1]);
  });

  it('refuses a waitPoint (or a holdPoint until) naming a CPU that runs no kernel script', () => {
    const e = refusal(withScript([{ op: 'waitPoint', cpu: 2, point: 'tlb_end_vma' }, madvise]));
    expect(e.message).toMatch(/script\[0\]: CPU 2 runs no kernel script/);
    expect(e.message).toContain('kernel CPUs: 0, 1');
    const h = refusal(withScript([{ op: 'holdPoint', point: 'tlb_end_vma', until: { cpu: 3, point: 'return' } }, madvise]));
    expect(h.message).toMatch(/script\[0\]: CPU 3 runs no kernel script/);
    // In another kernel CPU's script too.
    const k = refusal({ ...base, kernelCpus: [{ cpu: 1, script: [{ op: 'waitPoint', cpu: 2, point: 'tlb_end_vma' }] }] });
    expect(k.message).toMatch(/kernelCpus\[0\]\.script\[0\]: CPU 2 runs no kernel script/);
  });

  it('refuses a CPU waiting for its own point', () => {
    expect(refusal(withScript([{ op: 'waitPoint', cpu: 0, point: 'tlb_end_vma' }])).message).toMatch(/CPU 0 cannot wait for its own kernel point/);
  });

  it('refuses a kernel point that does not exist, and a system call that does not', () => {
    const e = refusal(withScript([{ op: 'waitPoint', cpu: 1, point: 'tlb_end_vmaX' }]));
    expect(e.message).toMatch(/script\[0\]\.point: no kernel point 'tlb_end_vmaX'/);
    expect(e.message).toContain('tlb_end_vma,');
    expect(refusal(withScript([{ op: 'holdPoint', point: 'madvise(DONTNEED)/tlb_end_vmaX', steps: 10 }])).message).toMatch(/no kernel point 'tlb_end_vmaX'/);
    expect(refusal(withScript([{ op: 'holdPoint', point: 'mprotect/tlb_end_vma', steps: 10 }])).message).toMatch(/no system call 'mprotect'/);
    expect(refusal(withScript([{ op: 'waitPoint', cpu: 1, point: 'none/return' }])).message).toMatch(/no system call 'none'/);
  });

  it('refuses a holdPoint with both steps and until, or with neither', () => {
    const both = refusal(withScript([{ op: 'holdPoint', point: 'tlb_end_vma', steps: 10, until: { cpu: 1, point: 'return' } }, madvise]));
    expect(both.message).toMatch(/script\[0\]: a holdPoint takes either steps or until/);
    const neither = refusal(withScript([{ op: 'holdPoint', point: 'tlb_end_vma' } as CoordinatorCommand, madvise]));
    expect(neither.message).toMatch(/script\[0\]: a holdPoint takes either steps or until/);
    // Either one alone is fine.
    expect(() => parseScenario(withScript([{ op: 'holdPoint', point: 'tlb_end_vma', steps: 10 }, madvise]), 'test')).not.toThrow();
  });

  it('refuses kernelCpus listing a CPU twice, or CPU 0 (which runs `script`)', () => {
    const k = base.kernelCpus![0];
    expect(refusal({ ...base, kernelCpus: [k, { ...k }] }).message).toMatch(/kernelCpus\[1\]\.cpu: CPU 1 is listed twice/);
    expect(refusal({ ...base, kernelCpus: [{ ...k, cpu: 0 }] }).message).toMatch(/kernelCpus\[0\]\.cpu:/);
  });

  it('refuses waitPoint and holdPoint in the setup (it runs before the other CPUs start)', () => {
    expect(refusal({ ...base, setup: [...base.setup, { op: 'holdPoint', point: 'tlb_end_vma', steps: 1 }] }).message).toMatch(/setup\[3\]: holdPoint belongs in a script/);
  });
});

describe('preflight: kernel CPUs the run does not have', () => {
  async function refused(o: Parameters<typeof runScenario>[0]): Promise<ScenarioError> {
    const err = await runScenario(o).then(
      () => null,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(ScenarioError);
    expect((err as ScenarioError).usage).toBe(true);
    return err as ScenarioError;
  }

  it('runScenario refuses a kernel CPU >= cpus with a ScenarioError, before any thread starts', async () => {
    // A pool that must stay unused: the refusal comes first.
    const pool = new CpuPool();
    try {
      // The run's CPU count (here from the options) is what counts, not the scenario's.
      const one = await refused({ scenario: base, cpus: 1, iterations: 1, pool });
      expect(one.message).toBe(`scenario ${base.name}: kernelCpus: CPU 1 runs a kernel script, but the run has 1 CPU (CPU 0); run it with at least 2 CPUs`);
      const five = await refused({ scenario: withKernelCpu(5), iterations: 1, pool });
      expect(five.message).toBe(`scenario ${base.name}: kernelCpus: CPU 5 runs a kernel script, but the run has 4 CPUs (0 to 3); run it with at least 6 CPUs`);
      expect(pool.threadsStarted).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

/** `base` with its second kernel CPU moved to `cpu` (and CPU 0's hold retargeted), valid for the schema. */
function withKernelCpu(cpu: number): Scenario {
  const script = base.script.map((c) => (c.op === 'holdPoint' && c.until ? { ...c, until: { ...c.until, cpu } } : c));
  const s = { ...base, script, kernelCpus: base.kernelCpus!.map((k) => ({ ...k, cpu })) };
  expect(() => parseScenario(s, 'test')).not.toThrow();
  return s;
}
