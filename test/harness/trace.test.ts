import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { runScenario } from '../../src/harness/runner.js';
import { usePool } from '../helpers.js';

const pool = usePool();
const dir = mkdtempSync(join(tmpdir(), 'smpsim-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ChromeEvent {
  ph: string;
  tid?: number;
  name?: string;
  id?: number;
  cat?: string;
  args?: { name?: string };
}

describe('--trace', () => {
  it('writes the failing iteration as Chrome trace-event JSON: a track per CPU, coordinator spans, IPI flows, the violation', async () => {
    const file = join(dir, 'pct.json');
    const r = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.37'], hw: 'arm11mpcore', cpus: 3, mode: 'pct', iterations: 40, stopAtFirst: true, pool: pool(), trace: file });
    expect(r.combinations[0].outcome).toBe('caught');
    const t = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: ChromeEvent[]; otherData: { timeUnit: string } };
    const ev = t.traceEvents;
    expect(t.otherData.timeUnit).toBe('gate steps');
    const threads = ev.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => e.args?.name);
    expect(threads).toEqual(['CPU 0 (coordinator)', 'CPU 1', 'CPU 2']);
    // The coordinator's kernel ops and frees, the other CPUs' accesses.
    expect(ev.some((e) => e.tid === 0 && e.ph === 'B' && e.cat === 'kernel' && /^munmap\//.test(e.name ?? ''))).toBe(true);
    expect(ev.some((e) => e.tid === 0 && /^free frame/.test(e.name ?? ''))).toBe(true);
    expect(ev.some((e) => e.tid !== 0 && e.cat === 'access')).toBe(true);
    expect(ev.some((e) => e.cat === 'violation' && /VIOLATION stale-data-access/.test(e.name ?? ''))).toBe(true);
    // Every IPI flow that starts ends: send on the coordinator, acknowledgement on the target.
    const starts = ev.filter((e) => e.ph === 's').map((e) => e.id);
    const ends = ev.filter((e) => e.ph === 'f').map((e) => e.id);
    expect(starts.length).toBeGreaterThan(0);
    expect(new Set(ends)).toEqual(new Set(starts));
    // Begin and end events balance per track.
    for (const tid of [0, 1, 2]) {
      const b = ev.filter((e) => e.tid === tid && e.ph === 'B').length;
      const en = ev.filter((e) => e.tid === tid && e.ph === 'E').length;
      expect(en, `track ${tid}`).toBe(b);
    }
  });

  it('in stress mode writes the last iteration when none fails, stamped in microseconds', async () => {
    const file = join(dir, 'stress.json');
    await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'x86', cpus: 3, iterations: 3, pool: pool(), trace: file });
    const t = JSON.parse(readFileSync(file, 'utf8')) as { traceEvents: ChromeEvent[]; otherData: { timeUnit: string } };
    expect(t.otherData.timeUnit).toBe('microseconds');
    expect(t.traceEvents.some((e) => e.cat === 'flush')).toBe(true);
    expect(t.traceEvents.some((e) => e.cat === 'violation')).toBe(false);
  });
});
