import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STACK_LINE, cli, signalsOn } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpsim-bench-int-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Three policies; the workload factory runs once per CPU as each policy's
// threads are set up. For the second policy CPU 2 keeps interrupts off for
// good (its munmap's IPI is never acknowledged; the watchdog is 60 s away),
// and says READY when that policy's first iteration is posted to the threads
// (a structured clone calls the getter).
const SOURCE = `let calls = 0;
export default {
  name: 'bench-stuck', title: 't', cpus: 3, machine: { frames: 256, ipiTimeoutMs: 60000 },
  setup: [{ op: 'createMm', asid: 0 }, { op: 'switchMm', asid: 0 }, { op: 'mmap', asid: 0, start: 0, pages: 16, write: true }],
  script: [{ op: 'waitSteps', steps: 100 }, { op: 'munmap', asid: 0, start: 0, end: 16 }, { op: 'mmap', asid: 0, start: 0, pages: 16, write: true }],
  workload: (cpu) => {
    const w = { spaces: [0], ranges: [{ start: 0, pages: 16 }], mix: { load: 1 } };
    if (cpu !== 2 || ++calls !== 2) return w;
    return { ...w, mix: { load: 1, irqOff: 1 }, get irqOffSteps() { process.stderr.write('READY\\\\n'); return 1e15; } };
  },
  combinations: [
    { arch: 'linux-6', hw: 'x86', expect: null },
    { arch: 'generic-range', hw: 'x86', expect: null },
    { arch: 'arm-2.6.38', hw: 'x86', expect: null },
  ],
};`;

describe('a signal during a bench', () => {
  it('SIGINT prints what was measured (the policies completed), marked interrupted, and exits 130', async () => {
    const file = join(dir, 'bench-stuck.mjs');
    writeFileSync(file, SOURCE);
    const signals = signalsOn([['READY', 'SIGINT']]);
    const r = await cli(['bench', 'policies', file, '-n', '3', '--json'], { onStderr: signals.onStderr });
    expect(signals.sent()).toBe(1);
    expect(r.code).toBe(130);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ bench: 'policies', interrupted: true });
    expect(out.rows.map((x: { policy: string }) => x.policy)).toEqual(['linux-6']);
    expect(r.stderr).toMatch(/smpsim: interrupted: partial results \(1 of 3 policies\)\n$/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });
});
