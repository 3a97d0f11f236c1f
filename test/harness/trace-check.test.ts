import { describe, expect, it } from 'vitest';
import { micros, toChromeTrace } from '../../src/harness/chrome-trace.js';
import { TRACE_RULES, type TraceRule, checkTrace, perfettoNs } from '../../src/harness/trace-check.js';
import { Ev } from '../../src/machine/recorder.js';

/** A well-formed trace: one process, one named thread, a slice with a flow from it to a slice on a second thread. */
function good(): { traceEvents: Record<string, unknown>[]; otherData: { timeBase: string } } {
  return {
    traceEvents: [
      { ph: 'M', name: 'process_name', pid: 1, args: { name: 'p' } },
      { ph: 'M', name: 'thread_name', pid: 1, tid: 0, args: { name: 'CPU 0' } },
      { ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: { name: 'CPU 1' } },
      { ph: 'X', name: 'op', cat: 'kernel', pid: 1, tid: 0, ts: 1, dur: 10 },
      { ph: 'X', name: 'send', cat: 'ipi', pid: 1, tid: 0, ts: 2, dur: 1 },
      { ph: 's', name: 'IPI', cat: 'ipi', id: 7, pid: 1, tid: 0, ts: 2.5 },
      { ph: 'B', name: 'take', cat: 'ipi', pid: 1, tid: 1, ts: 3 },
      { ph: 'f', bp: 'e', name: 'IPI', cat: 'ipi', id: 7, pid: 1, tid: 1, ts: 3.5 },
      { ph: 'E', pid: 1, tid: 1, ts: 4 },
      { ph: 'i', s: 't', name: 'VIOLATION', cat: 'violation', pid: 1, tid: 1, ts: 5 },
    ],
    otherData: { timeBase: '1 gate step = 1 µs' },
  };
}

/** The rules the messages name. */
const rules = (problems: string[]): string[] => [...new Set(problems.map((p) => p.split(':')[0]))];

describe('checkTrace: the rules a trace keeps for Perfetto', () => {
  it('accepts a trace that keeps them all', () => {
    expect(checkTrace(good())).toEqual([]);
  });

  const broken: [TraceRule, string, (t: ReturnType<typeof good>) => unknown][] = [
    ['document', 'no traceEvents', () => ({ events: [] })],
    ['phase', 'an unknown ph', (t) => (t.traceEvents.push({ ph: 'Q', pid: 1, tid: 0, ts: 1 }), t)],
    ['ids', 'a slice without tid', (t) => (delete t.traceEvents[3].tid, t)],
    ['fields', 'a negative ts', (t) => ((t.traceEvents[3].ts = -1), t)],
    ['fields', 'an X without dur', (t) => (delete t.traceEvents[3].dur, t)],
    ['names', 'a thread without thread_name', (t) => (t.traceEvents.splice(2, 1), t)],
    ['names', 'no process_name', (t) => (t.traceEvents.splice(0, 1), t)],
    ['nesting', 'two slices partially overlapping', (t) => (t.traceEvents.push({ ph: 'X', name: 'late', pid: 1, tid: 0, ts: 8, dur: 10 }), t)],
    ['nesting', 'a B without E', (t) => (t.traceEvents.splice(8, 1), t)],
    ['nesting', 'slices starting together, the shorter first', (t) => (t.traceEvents.splice(3, 0, { ph: 'X', name: 'short', pid: 1, tid: 0, ts: 1, dur: 2 }), t)],
    ['instant-scope', "an instant with scope 'x'", (t) => ((t.traceEvents[9].s = 'x'), t)],
    ['violations', 'a global violation', (t) => ((t.traceEvents[9].s = 'g'), t)],
    ['flow-pair', 'a flow without end', (t) => (t.traceEvents.splice(7, 1), t)],
    ['flow-pair', 'a flow ending before it starts', (t) => ((t.traceEvents[7].ts = 2.2), (t.traceEvents[6].ts = 2.1), t)],
    ['flow-binding', "a flow end without bp 'e'", (t) => (delete t.traceEvents[7].bp, t)],
    ['flow-binding', 'a flow start after its slice ended', (t) => ((t.traceEvents[5].ts = 3.2), t)],
    ['flow-binding', 'a flow start where a slice starts', (t) => ((t.traceEvents[5].ts = 2), t)],
    ['flow-binding', 'a flow end after every slice of its thread ended', (t) => ((t.traceEvents[7].tid = 0), (t.traceEvents[7].ts = 12), t)],
    ['time-base', 'no otherData.timeBase', (t) => ({ traceEvents: t.traceEvents })],
  ];
  it.each(broken)('names rule %s for %s', (rule, _what, breakIt) => {
    expect(TRACE_RULES[rule]).toBeTruthy();
    expect(rules(checkTrace(breakIt(good())))).toContain(rule);
  });

  it('reads times as Perfetto does: µs × 1000, truncated to whole ns', () => {
    expect(perfettoNs(1.001)).toBe(1000);
    expect(perfettoNs(micros(1234567))).toBe(1234567);
    for (const ns of [1, 999, 1001, 123456789, 987654321012]) expect(perfettoNs(micros(ns))).toBe(ns);
  });
});

/** Flat recorded events, as a CPU thread returns them: t, cpu, kind, a, b, c. */
const ev = (t: number, cpu: number, kind: number, a = 0, b = 0, c = 0): number[] => [t, cpu, kind, a, b, c];

describe('toChromeTrace on recorded events', () => {
  it('stress: an IPI taken by a clock that reads before the sender recorded the send still draws its arrow, send before taking', () => {
    const perCpu = [
      [...ev(10, 0, Ev.KERNEL_OP, 1, 8), ...ev(10.5, 0, Ev.FLUSH, 3, 8, 9), ...ev(12.0, 0, Ev.IPI_SEND, 1, 1, 3), ...ev(14, 0, Ev.FLUSH_DONE, 3), ...ev(15, 0, Ev.KERNEL_OP, 0)],
      [...ev(11.99, 1, Ev.ACCESS, 0, 8, 0), ...ev(11.995, 1, Ev.IPI_HANDLE, 0, 1, 3), ...ev(12.5, 1, Ev.ACCESS, 0, 8, 0)],
    ];
    const t = toChromeTrace(perCpu, { scenario: 's', label: 'a / x86', mode: 'stress' });
    expect(checkTrace(t)).toEqual([]);
    const s = t.traceEvents.find((e) => e.ph === 's')!;
    const f = t.traceEvents.find((e) => e.ph === 'f')!;
    expect([s.tid, f.tid, f.bp]).toEqual([0, 1, 'e']);
    expect(f.ts!).toBeGreaterThan(s.ts!);
  });

  it('a span that ends while one it contains is open: the inner one is cut in two, and the slices still nest', () => {
    // The kernel operation returns while its flush is still open; the flush ends later.
    const perCpu = [[...ev(1, 0, Ev.KERNEL_OP, 1, 8), ...ev(2, 0, Ev.FLUSH, 2), ...ev(3, 0, Ev.KERNEL_OP, 0), ...ev(4, 0, Ev.ACCESS, 0, 8, 0), ...ev(5, 0, Ev.FLUSH_DONE, 2)]];
    const t = toChromeTrace(perCpu, { scenario: 's', label: 'a / x86', mode: 'pct' });
    expect(checkTrace(t)).toEqual([]);
    const flushes = t.traceEvents.filter((e) => e.cat === 'flush');
    expect(flushes).toHaveLength(2);
    // The two pieces cover the flush: from its begin (step 2) to its end (step 5).
    expect(Math.floor(flushes[0].ts!)).toBe(2);
    expect(perfettoNs(flushes[1].ts!) + perfettoNs(flushes[1].dur!)).toBe(5000);
  });

  it('pct: many events of one CPU in one gate step get distinct times within it, in recorded order', () => {
    const perCpu = [Array.from({ length: 20 }, (_, i) => ev(7, 0, Ev.ACCESS, 0, i, 0)).flat()];
    const t = toChromeTrace(perCpu, { scenario: 's', label: 'a / x86', mode: 'pct' });
    expect(checkTrace(t)).toEqual([]);
    const ts = t.traceEvents.filter((e) => e.cat === 'access').map((e) => e.ts!);
    expect(ts.every((x) => x >= 7 && x < 8)).toBe(true);
    expect([...ts].sort((a, b) => a - b)).toEqual(ts);
    expect(new Set(ts).size).toBe(20);
    expect(t.otherData.timeBase).toMatch(/1 gate step = 1 µs/);
  });
});
