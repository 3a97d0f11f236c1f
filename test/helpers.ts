import { afterAll, beforeAll } from 'vitest';
import { CpuPool } from '../src/harness/pool.js';
import type { Scenario } from '../src/harness/scenario.js';
import { FrameKind, Machine, Pte } from '../src/machine/index.js';

/** One warm pool of CPU threads for a test file. */
export function usePool(): () => CpuPool {
  let pool: CpuPool | undefined;
  beforeAll(() => {
    pool = new CpuPool();
  });
  afterAll(async () => {
    await pool?.close();
  });
  return () => pool!;
}

/** Map `pages` fresh data frames at `start` in address space `asid`. */
export function mapRange(m: Machine, asid: number, start: number, pages: number, flags: number = Pte.WRITE): number[] {
  const frames: number[] = [];
  for (let v = start; v < start + pages; v++) {
    const f = m.alloc.alloc(FrameKind.DATA, asid);
    if (f < 0 || !m.pt.map(asid, v, f, flags)) throw new Error('out of frames');
    frames.push(f);
  }
  return frames;
}

/**
 * A scenario whose first iteration gets stuck: CPU 2 disables interrupts and
 * never enables them again, so CPU 0's munmap waits for its IPI
 * acknowledgement until the watchdog (`ipiTimeoutMs`) fires.
 */
export function stuckScenario(ipiTimeoutMs: number): Scenario {
  return {
    name: 'stuck',
    title: 'stuck CPU (test)',
    description: '',
    cpus: 3,
    machine: { frames: 256, ipiTimeoutMs },
    setup: [
      { op: 'createMm', asid: 0 },
      { op: 'switchMm', asid: 0 },
      { op: 'mmap', asid: 0, start: 0, pages: 16, write: true },
    ],
    script: [
      { op: 'waitSteps', steps: 100 },
      { op: 'munmap', asid: 0, start: 0, end: 16 },
    ],
    workload: (cpu) => ({ spaces: [0], ranges: [{ start: 0, pages: 16 }], mix: cpu === 2 ? { load: 1, irqOff: 1 } : { load: 1 }, irqOffSteps: 1e15 }),
    combinations: [{ arch: 'linux-6', hw: 'x86', expect: 'clean' }],
  };
}
