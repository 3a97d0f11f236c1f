import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import type { ChromeTrace } from '../../src/harness/chrome-trace.js';
import { replay } from '../../src/harness/replay.js';
import { type TraceWritten, runScenario } from '../../src/harness/runner.js';
import { checkTrace } from '../../src/harness/trace-check.js';
import { Ev } from '../../src/machine/recorder.js';
import { usePool } from '../helpers.js';

const pool = usePool();
const dir = mkdtempSync(join(tmpdir(), 'smpsim-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const read = (file: string): ChromeTrace => JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace;

describe('--trace', () => {
  it('pct: the first violating iteration, whole for Perfetto: CPU tracks, violations on the violating CPU, IPI arrows between slices, 1 gate step = 1 µs', async () => {
    const file = join(dir, 'pct.json');
    let written: TraceWritten | undefined;
    const r = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.37'], hw: 'arm11mpcore', cpus: 3, mode: 'pct', iterations: 40, stopAtFirst: true, pool: pool(), trace: file, onTrace: (w) => (written = w) });
    const c = r.combinations[0];
    expect(c.outcome).toBe('caught');
    expect(written).toMatchObject({ file, label: 'arm-2.6.37 / arm11mpcore', iteration: c.firstViolatingIteration, violating: true });
    const t = read(file);
    expect(checkTrace(t)).toEqual([]);
    expect(t.otherData).toMatchObject({ scenario: 'arm-delayed-free', mode: 'pct', iteration: c.firstViolatingIteration, seed: c.firstViolation!.seed });
    const ev = t.traceEvents;
    const threads = ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
    expect(threads).toEqual(['CPU 0 (coordinator)', 'CPU 1', 'CPU 2']);
    expect(ev.some((e) => e.tid === 0 && e.cat === 'kernel' && /^munmap\//.test(e.name ?? ''))).toBe(true);
    expect(ev.some((e) => e.tid !== 0 && e.cat === 'access')).toBe(true);
    // The first violation is an instant on the track of the CPU the report names.
    const violations = ev.filter((e) => e.cat === 'violation');
    expect(violations.every((v) => v.ph === 'i' && v.s === 't')).toBe(true);
    expect(violations.some((v) => v.tid === c.firstViolation!.cpu && v.name!.includes(c.firstViolation!.address))).toBe(true);
    // Each arrow goes from the sender's send to the target's taking.
    const starts = ev.filter((e) => e.ph === 's');
    expect(starts.length).toBeGreaterThan(0);
    for (const s of starts) {
      const f = ev.find((e) => e.ph === 'f' && e.id === s.id)!;
      const send = ev.find((e) => e.ph === 'X' && e.tid === s.tid && e.ts! < s.ts! && e.ts! + e.dur! > s.ts! && e.cat === 'ipi')!;
      expect(send.name).toMatch(new RegExp(`to CPU ${f.tid}$`));
    }
    // The time base: the replay of the same iteration prints the violation's gate step, the trace has it at that µs.
    const rep = await replay(c.replay!, { pool: pool(), loadScenario: async () => armDelayedFree });
    const step = rep.events.find((e) => e.kind === Ev.VIOLATION)!.t;
    expect(Math.floor(violations.filter((v) => v.tid === rep.events.find((e) => e.kind === Ev.VIOLATION)!.cpu)[0].ts!)).toBe(step);
  });

  it('stress: the last iteration when none fails, wall-clock time, and every rule kept', async () => {
    const file = join(dir, 'stress.json');
    let written: TraceWritten | undefined;
    await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'x86', cpus: 3, iterations: 3, pool: pool(), trace: file, onTrace: (w) => (written = w) });
    expect(written).toMatchObject({ iteration: 2, violating: false });
    const t = read(file);
    expect(checkTrace(t)).toEqual([]);
    expect(t.otherData.timeBase).toMatch(/wall-clock/);
    expect(t.traceEvents.some((e) => e.cat === 'flush')).toBe(true);
    expect(t.traceEvents.some((e) => e.ph === 'f')).toBe(true);
    expect(t.traceEvents.some((e) => e.cat === 'violation')).toBe(false);
  });
});
