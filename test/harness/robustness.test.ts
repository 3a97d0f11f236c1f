import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { runScenario } from '../../src/harness/runner.js';
import type { Scenario } from '../../src/harness/scenario.js';
import { stuckScenario, usePool } from '../helpers.js';
import { cliInProcess } from '../cli/helpers.js';

const pool = usePool();
const dir = mkdtempSync(join(tmpdir(), 'smpsim-robust-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = {
  title: 'robustness (test)',
  description: '',
  cpus: 3,
  machine: { frames: 256, ipiTimeoutMs: 400 },
  setup: [
    { op: 'createMm', asid: 0 },
    { op: 'switchMm', asid: 0 },
    { op: 'mmap', asid: 0, start: 0, pages: 16, write: true },
  ],
  combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }],
} as const;

/** CPU 2 disables interrupts and never enables them again. */
const stuck = stuckScenario(400);

/**
 * The coordinator fails mid-iteration: shift_arg_pages of a vma that does not
 * start where it says. With a second kernel CPU the order of the calls is the
 * race's, so the preflight does not dry-run the script, and the failure
 * happens inside CPU 0's thread.
 */
const crashing: Scenario = {
  ...base,
  name: 'crashing',
  setup: [...base.setup],
  combinations: [...base.combinations],
  script: [
    { op: 'waitSteps', steps: 100 },
    { op: 'shiftArgPages', asid: 0, vmaStart: 5, shift: 1 },
  ],
  kernelCpus: [{ cpu: 1, script: [] }],
  workload: () => ({ spaces: [0], ranges: [{ start: 0, pages: 16 }] }),
};

const stuckSource = `export default {
  name: 'stuck-file', title: 't', cpus: 3, machine: { frames: 256 },
  setup: [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: 16, write: true }],
  script: [{ op: 'waitSteps', steps: 100 }, { op: 'munmap', asid: 0, start: 0, end: 16 }],
  workload: (cpu) => ({ spaces: [0], ranges: [{ start: 0, pages: 16 }], mix: cpu === 2 ? { load: 1, irqOff: 1 } : { load: 1 }, irqOffSteps: 1e15 }),
  combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }],
};`;

function cli(args: string[]) {
  return spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 60_000 });
}

describe('stuck CPUs', () => {
  it('the watchdog names the CPU, the IPI and how long interrupts were off; the pool works afterwards', async () => {
    await expect(runScenario({ scenario: stuck, iterations: 3, pool: pool() })).rejects.toThrow(
      /^CPU 2 did not acknowledge IPI #\d+ from CPU 0 within 0\.4 s; interrupts disabled since step \d+ \(op: interrupts off\)$/,
    );
    const r = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'arm11mpcore', iterations: 5, pool: pool() });
    expect(r.combinations[0]).toMatchObject({ outcome: 'clean', iterations: 5 });
  });

  // A real process: it must exit even though a CPU thread is still stuck.
  it('the CLI exits 3 with the watchdog message, --ipi-timeout sets the limit, and no trace file is left', () => {
    const file = join(dir, 'stuck.mjs');
    writeFileSync(file, stuckSource);
    const trace = join(dir, 'trace.json');
    const r = cli(['run', file, '--iterations', '3', '--ipi-timeout', '300ms', '--trace', trace]);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^smpsim: watchdog: CPU 2 did not acknowledge IPI #\d+ from CPU 0 within 0\.3 s; interrupts disabled since step \d+ \(op: interrupts off\)\n$/);
    expect(existsSync(trace)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('trace'))).toEqual([]);
  });
});

describe('crashed CPUs', () => {
  it('a CPU failing mid-iteration is reported with its CPU, step and operation; the next run works', async () => {
    await expect(runScenario({ scenario: crashing, iterations: 3, pool: pool() })).rejects.toThrow(/^CPU 0 failed at step \d+ \([^)]*\): .*no vma starts at 5 in address space 0/);
    const r = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.37'], hw: 'arm11mpcore', iterations: 5, pool: pool() });
    expect(r.combinations[0].outcome).toBe('caught');
  });
});

// Refused before any thread runs: checked in this process (cliInProcess stops once the inputs are
// checked, so a file that got past the checks would exit 0).
describe('bad input', () => {
  it('a machine too small for the scenario: exit 2, one line, before any thread runs', async () => {
    const file = join(dir, 'small.mjs');
    writeFileSync(
      file,
      `export default { name: 'small', title: 't', machine: { frames: 16 },
        setup: [{ op: 'createMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: 64, write: true }],
        script: [], workload: () => ({ spaces: [0], ranges: [{ start: 0, pages: 64 }] }),
        combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }] };`,
    );
    const r = await cliInProcess(['run', file, '--iterations', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpsim: scenario small: the machine is too small: its 16 frames do not hold the setup .*; raise machine\.frames\n$/);
  });

  it('a scenario file that fails validation names the offending field', async () => {
    const file = join(dir, 'badfield.mjs');
    writeFileSync(
      file,
      `export default { name: 'badfield', setup: [], script: [{ op: 'munmap', asid: 0, start: 0, end: -4 }],
        workload: () => ({ spaces: [0], ranges: [{ start: 0, pages: 4 }] }), combinations: [] };`,
    );
    const r = await cliInProcess(['run', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^smpsim: scenario file '.*badfield\.mjs': script\[0\]\.end: .*>=0.*\n$/);
  });
});
