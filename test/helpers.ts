import { afterAll, beforeAll } from 'vitest';
import { CpuPool } from '../src/harness/pool.js';
import type { Scenario } from '../src/harness/scenario.js';
import { armCores, coreTokens, hostCores } from '../src/machine/cores.js';
import { FrameKind, Machine, Pte } from '../src/machine/index.js';

/**
 * The warm CPU pool the test files of one vitest worker process share
 * (isolate: false runs a worker's files one after another in one process).
 * Starting a pool's threads costs each thread its module load and its JIT
 * warm-up; measured on the 2-core host, a pool per file spent about a fifth
 * of the suite's CPU time starting some 150 threads. Kept on globalThis so
 * that it is shared even if this module were evaluated once per file.
 */
interface SharedPool {
  pool: CpuPool;
  users: number;
  closing?: NodeJS.Timeout;
}
const SHARED = Symbol.for('smpsim.test.sharedPool');
type WithShared = typeof globalThis & { [SHARED]?: SharedPool };

/**
 * How long the shared pool outlives its last user: the next file's
 * beforeAll comes within milliseconds and takes it over; after the last
 * file it is closed, so that no thread outlives the worker's files.
 */
const SHARED_POOL_LINGER_MS = 300;

function acquireShared(): CpuPool {
  const g = globalThis as WithShared;
  let s = g[SHARED];
  if (s?.closing) clearTimeout(s.closing);
  if (!s) s = g[SHARED] = { pool: new CpuPool(), users: 0 };
  s.closing = undefined;
  s.users++;
  return s.pool;
}

function releaseShared(): void {
  const g = globalThis as WithShared;
  const s = g[SHARED];
  if (!s || --s.users > 0) return;
  s.closing = setTimeout(() => {
    if (g[SHARED] === s && s.users === 0) {
      g[SHARED] = undefined;
      void s.pool.close();
    }
  }, SHARED_POOL_LINGER_MS).unref();
}

/**
 * A warm pool of CPU threads for a test file: the worker's shared one
 * (acquireShared), or with `own` one of the file's own, for a file that
 * replaces or counts threads, or leaves a spy on the pool.
 */
export function usePool(o: { own?: boolean } = {}): () => CpuPool {
  let pool: CpuPool | undefined;
  beforeAll(() => {
    pool = o.own ? new CpuPool() : acquireShared();
  });
  afterAll(async () => {
    if (o.own) await pool?.close();
    else releaseShared();
  });
  return () => pool!;
}

/**
 * Arm the host-core gate for `m`'s next run as a stress run would on this
 * host (cores.ts coreTokens: only when its CPU threads outnumber the host's
 * cores). After m.reset(). A hand-built run of more CPU threads than cores
 * without it leaves each wait for a thread the host descheduled to the
 * host's time slice: a broadcast race of 400 rounds at 4 CPUs on 2 cores
 * took 3.2 s and its workload threads filled 12-100 entries that the
 * broadcasts dropped; under the gate 0.13-0.27 s and 1,600-2,500.
 */
export function gateAsStress(m: Machine): void {
  armCores(m.i32, coreTokens(m.config.cpus, hostCores()));
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
