import { describe, expect, it } from 'vitest';
import base from '../../scenarios/arm-delayed-free.js';
import { runScenario } from '../../src/harness/runner.js';
import type { Scenario } from '../../src/harness/scenario.js';
import { usePool } from '../helpers.js';

const pool = usePool();

/** Run one iteration of `s` on one combination; resolve to the error it is refused with. */
async function refusal(s: Scenario): Promise<Error & { usage?: boolean }> {
  try {
    await runScenario({ scenario: s, pool: pool(), iterations: 1, combinations: [{ arch: 'linux-6', hw: 'armv7-mp', expect: null }] });
  } catch (e) {
    return e as Error & { usage?: boolean };
  }
  throw new Error('the scenario was not refused');
}

const withWorkload = (w: unknown): Scenario => ({ ...base, name: 'bad-workload', workload: () => w as ReturnType<Scenario['workload']> });
const good = base.workload(1, 4);

describe('bad scenario input is refused before any thread runs, naming the field', () => {
  it.each([
    [{ ...good, spaces: [7] }, /workload of CPU 1: spaces\[0\]: address space 7 does not exist when the workloads start \(the setup creates: 0\)/],
    [{ ...good, spaces: [1.5] }, /workload of CPU 1: spaces\[0\]: .*expected int/i],
    [{ ...good, spaces: [-1] }, /workload of CPU 1: spaces\[0\]: .*(>=|greater|too small)/i],
    [{ ...good, steps: 'lots' }, /workload of CPU 1: steps: .*number/i],
    [{ ...good, gupGap: -5 }, /workload of CPU 1: gupGap: /],
    [{ ...good, irqOffSteps: Number.NaN }, /workload of CPU 1: irqOffSteps: /],
    [{ ...good, idleSteps: 'x' }, /workload of CPU 1: idleSteps: /],
    [{ ...good, tlbSize: 4 }, /workload of CPU 1: .*tlbSize/],
    [{ ...good, mix: { load: 1, stroe: 1 } }, /workload of CPU 1: mix: .*stroe/],
  ])('workload %#', async (w, message) => {
    const e = await refusal(withWorkload(w));
    expect(e.message).toMatch(message);
    expect(e.usage).toBe(true);
  });

  it('an unknown machine setting, named with the known ones', async () => {
    const e = await refusal({ ...base, name: 'bad-machine', machine: { ...base.machine, tlbSize: 64 } as Scenario['machine'] });
    expect(e.message).toMatch(/unknown machine setting 'tlbSize' \(known: cpus, frames/);
    expect(e.usage).toBe(true);
  });

  it('a script call on an address space no createMm creates', async () => {
    const e = await refusal({ ...base, name: 'bad-asid', script: [{ op: 'munmap', asid: 3, start: 0, end: 8 }] });
    expect(e.message).toMatch(/script\[0\]: munmap names address space 3, which no createMm creates \(created: 0\)/);
    expect(e.usage).toBe(true);
  });

  it('a script call that must fail (an mmap over a mapping) is found by the dry run, not on CPU 0 mid-run', async () => {
    const e = await refusal({ ...base, name: 'bad-mmap', script: [{ op: 'mmap', asid: 0, start: 4, pages: 8 }] });
    expect(e.message).toMatch(/script fails: EINVAL: \[4, 12\) overlaps a mapping/);
    expect(e.usage).toBe(true);
  });

  it("a file the machine has not, or a page past a file's end, in any kernel CPU's script", async () => {
    const other = { cpu: 1, script: [{ op: 'truncate' as const, file: 9, pages: 0 }] };
    let e = await refusal({ ...base, name: 'bad-file', kernelCpus: [other] });
    expect(e.message).toMatch(/kernelCpus\[0\]\.script\[0\]: truncate names file 9, but the machine has 8 file slots \(machine\.files\)/);
    expect(e.usage).toBe(true);
    e = await refusal({ ...base, name: 'bad-page', script: [{ op: 'mmap', asid: 0, start: 64, pages: 8, file: 0, pgoff: 60 }] });
    expect(e.message).toMatch(/script\[0\]: mmap reaches page 68 of file 0, past the 64 pages a file has \(machine\.filePages\)/);
  });
});
