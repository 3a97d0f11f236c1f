import { describe, expect, it } from 'vitest';
import { type BarStream, createProgress, createStepProgress } from '../../src/cli/progress.js';

/** A stand-in terminal that keeps what is written to it. */
function terminal(isTTY = true): BarStream & { out: string } {
  const t = {
    out: '',
    isTTY,
    columns: 160,
    write(s: string | Uint8Array): boolean {
      t.out += String(s);
      return true;
    },
  };
  return t as BarStream & { out: string };
}

/** The lines drawn, escape sequences (cursor moves, line clears) removed. */
const frames = (out: string): string[] =>
  out
    .split(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]|\r|\n/)
    .map((s) => s.trim())
    .filter(Boolean);

const event = (combination: number, iteration: number, violations = 0) => ({ combination, combinations: 3, label: `policy-${combination} / x86`, iteration, iterations: 4, violations, index: iteration - 1, seed: 1 });

describe('the run progress bar', () => {
  it('is one bar over the whole matrix: combinations x iterations, the violations of the whole run, an ETA', () => {
    const t = terminal();
    const p = createProgress({ stream: t });
    for (let c = 0; c < 3; c++) for (let i = 1; i <= (c < 2 ? 4 : 2); i++) p.onProgress!(event(c, i, c === 0 ? 1 : c === 2 ? i : 0));
    // stop() draws the bar as it stands, then clears the line.
    p.stop();
    const f = frames(t.out);
    expect(f[0]).toMatch(/^\[1\/3\] policy-0 \/ x86 \[.+\] 1\/12 it \| ETA \S+ \| 1 violations/);
    expect(f.at(-1)).toMatch(/^\[3\/3\] policy-2 \/ x86 \[.+\] 10\/12 it \| ETA \S+ \| 3 violations/);
    // One bar: never restarted at 0 for a new combination.
    expect(f.filter((l) => / 0\/12 it/.test(l))).toEqual([]);
    expect(t.out).toMatch(/\x1b\[2K/);
  });

  it('with --duration: combinations x the duration, by time', () => {
    const t = terminal();
    const p = createProgress({ stream: t, durationMs: 5000 });
    p.onProgress!({ ...event(1, 7), iterations: Infinity });
    p.stop();
    expect(frames(t.out).at(-1)).toMatch(/^\[2\/3\] policy-1 \/ x86 \[.+\] 7 it, 0\/5 s \| ETA/);
  });

  it('draws nothing once stopped (a signal took it down), and nothing at all off a terminal', () => {
    const t = terminal();
    const p = createProgress({ stream: t });
    p.onProgress!(event(0, 1));
    p.stop();
    const drawn = t.out;
    p.onProgress!(event(0, 2));
    p.stop();
    expect(t.out).toBe(drawn);
    const pipe = terminal(false);
    const q = createProgress({ stream: pipe });
    expect(q.onProgress).toBeUndefined();
    q.stop();
    expect(pipe.out).toBe('');
  });
});

describe('the bench progress bar', () => {
  it('counts the steps done out of all, and says what is being measured', () => {
    const t = terminal();
    const p = createStepProgress('bench shootdown', 4, 'points', { stream: t });
    for (const s of ['1 CPU, ipi', '1 CPU, broadcast', '2 CPUs, ipi']) p.step(s);
    p.stop();
    const f = frames(t.out);
    expect(f[0]).toMatch(/^bench shootdown \[.+\] 0\/4 points \| ETA \? \| 1 CPU, ipi$/);
    expect(f.at(-1)).toMatch(/^bench shootdown \[.+\] 2\/4 points \| ETA \S+ \| 2 CPUs, ipi$/);
    p.step('2 CPUs, broadcast');
    expect(frames(t.out).at(-1)).toBe(f.at(-1));
  });

  it('writes nothing off a terminal', () => {
    const pipe = terminal(false);
    const p = createStepProgress('bench ipi', 2, 'rounds', { stream: pipe });
    p.step('round 1');
    p.stop();
    expect(pipe.out).toBe('');
  });
});
