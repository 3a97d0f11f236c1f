import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type CliResult, STACK_LINE, cli, signalsOn } from './helpers.js';

/**
 * Ctrl-C while an iteration is stuck: CPU 2 keeps interrupts off for good,
 * so CPU 0's munmap waits for its IPI acknowledgement until the watchdog
 * (--ipi-timeout 20s). The signal must end the run long before that, with
 * the partial report.
 */
const dir = mkdtempSync(join(tmpdir(), 'smpsim-stuck-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// The workload factory runs for each CPU in the preflight, then again as the
// combination's threads are set up. The object of that second call for CPU 2
// is read only when the iteration's tasks are posted to the threads (a
// structured clone calls getters): its getter says READY once the iteration
// has started.
const STUCK = `let calls = 0;
export default {
  name: 'stuck-file', title: 't', cpus: 3, machine: { frames: 256 },
  setup: [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: 16, write: true }],
  script: [{ op: 'waitSteps', steps: 100 }, { op: 'munmap', asid: 0, start: 0, end: 16 }],
  workload: (cpu) => {
    const w = { spaces: [0], ranges: [{ start: 0, pages: 16 }], mix: cpu === 2 ? { load: 1, irqOff: 1 } : { load: 1 } };
    if (cpu !== 2 || ++calls !== 2) return { ...w, irqOffSteps: 1e15 };
    return { ...w, get irqOffSteps() { process.stderr.write('READY\\n'); return 1e15; } };
  },
  combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }],
};`;

/** Run the stuck scenario, sending `signals[i]` when stderr first shows `after[i]`; returns the result and the ms from the first signal to the exit. */
async function interrupted(signals: NodeJS.Signals[], after: string[]): Promise<{ r: CliResult; ms: number }> {
  const file = join(dir, `stuck-${signals.join('-')}.mjs`);
  writeFileSync(file, STUCK);
  const steps = signalsOn(signals.map((s, i): [string, NodeJS.Signals] => [after[i], s]));
  const r = await cli(['run', file, '--ipi-timeout', '20s', '--json'], { onStderr: steps.onStderr });
  expect(steps.sent()).toBe(signals.length);
  return { r, ms: performance.now() - steps.firstAt() };
}

// Real processes signalled, side by side (each its own file).
describe.concurrent('a signal during a stuck iteration', () => {
  it('SIGINT ends it within a few seconds, not at the 20 s watchdog: exit 130, the partial JSON report', async () => {
    const { r, ms } = await interrupted(['SIGINT'], ['READY']);
    expect(r.code).toBe(130);
    expect(ms).toBeLessThan(8000);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ interrupted: true, scenario: 'stuck-file' });
    expect(report.combinations[0]).toMatchObject({ iterations: 0, violations: 0 });
    expect(r.stderr).not.toMatch(/watchdog/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stderr).toMatch(/smpsim: the iteration in progress did not end within 1 s: abandoning it \(not counted\)\nsmpsim: interrupted: the report is partial\n$/);
  });

  it('a second SIGTERM stops it at once and still writes the report; exit 143 (the first signal)', async () => {
    const { r, ms } = await interrupted(['SIGTERM', 'SIGTERM'], ['READY', 'stopping after the current iteration']);
    expect(r.code).toBe(143);
    expect(ms).toBeLessThan(8000);
    expect(JSON.parse(r.stdout)).toMatchObject({ interrupted: true });
    expect(r.stderr).toMatch(/smpsim: SIGTERM again: abandoning the iteration in progress \(not counted\)\n/);
    expect(r.stderr).not.toMatch(/watchdog/);
  });
});
