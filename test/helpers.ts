import { afterAll, beforeAll } from 'vitest';
import { CpuPool } from '../src/harness/pool.js';
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
