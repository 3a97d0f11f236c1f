import { describe, expect, it, vi } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { ABANDON_LEAVE_MS, type CpuPool, IterationAbandoned } from '../../src/harness/pool.js';
import { runScenario } from '../../src/harness/runner.js';
import { Machine } from '../../src/machine/machine.js';
import { stuckScenario, usePool } from '../helpers.js';

const pool = usePool({ own: true });

/** CPU 0's munmap waits for CPU 2's IPI acknowledgement until the watchdog, 60 s away. */
const stuck = stuckScenario(60_000);

/** Abort `controller` as soon as the pool has been handed an iteration's tasks (stress iterations come in batches). */
function abortOnRun(p: CpuPool, controller: AbortController): void {
  const original = p.runBatch.bind(p);
  vi.spyOn(p, 'runBatch').mockImplementationOnce((batches, abort) => {
    const running = original(batches, abort);
    controller.abort();
    return running;
  });
}

describe('abandoning a stuck iteration', () => {
  it('abort ends the run at once: the report is interrupted, the stuck iteration counted neither clean nor caught; the pool works afterwards', async () => {
    const controller = new AbortController();
    abortOnRun(pool(), controller);
    const t0 = performance.now();
    const r = await runScenario({ scenario: stuck, iterations: 5, pool: pool(), abort: controller.signal });
    expect(performance.now() - t0).toBeLessThan(ABANDON_LEAVE_MS + 3000);
    expect(r.interrupted).toBe(true);
    expect(r.combinations[0]).toMatchObject({ iterations: 0, violations: 0, outcome: 'clean', asExpected: true });
    const after = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'arm11mpcore', iterations: 5, pool: pool() });
    expect(after.combinations[0]).toMatchObject({ outcome: 'clean', iterations: 5 });
  });

  it('threads that do not leave are terminated and replaced: run rejects with IterationAbandoned, and the next bind starts fresh threads', async () => {
    const p = pool();
    const m = Machine.create({ cpus: 2, frames: 64 });
    await p.bind(m);
    const before = p.threadsStarted;
    const controller = new AbortController();
    const running = p.run([{ role: 'deaf', args: { ms: 30_000 } }, { role: 'deaf', args: { ms: 30_000 } }], controller.signal);
    controller.abort();
    await expect(running).rejects.toBeInstanceOf(IterationAbandoned);
    await p.bind(m);
    expect(p.threadsStarted).toBeGreaterThan(before);
    const after = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'arm11mpcore', iterations: 3, pool: p });
    expect(after.combinations[0]).toMatchObject({ outcome: 'clean', iterations: 3 });
  });
});
