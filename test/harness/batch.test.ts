import { describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { CombinationRunner, iterationSeed, runScenario } from '../../src/harness/runner.js';
import { C, H } from '../../src/machine/layout.js';
import { CoreState } from '../../src/machine/cores.js';
import { prepareIteration } from '../../src/harness/thread/batch.js';
import { Machine } from '../../src/machine/machine.js';
import type { CpuTask } from '../../src/harness/thread/worker-host.js';
import { CpuThreadDied } from '../../src/harness/pool.js';
import { usePool } from '../helpers.js';

const pool = usePool();

/** Stress iterations run in batches (src/harness/thread/batch.ts): what a batch must keep of a single iteration's contract. */
describe('batches of stress iterations', () => {
  it('give each iteration its own reset, seed and outcome: a buggy policy is caught and a fixed one stays clean, every iteration counted', async () => {
    for (const [arch, outcome] of [
      ['arm-2.6.37', 'caught'],
      ['arm-2.6.38', 'clean'],
    ] as const) {
      const seen: number[] = [];
      const r = await runScenario({ scenario: armDelayedFree, arch: [arch], hw: 'arm11mpcore', cpus: 3, iterations: 40, pool: pool(), onProgress: (p) => seen.push(p.index) });
      const c = r.combinations[0];
      expect(c).toMatchObject({ outcome, iterations: 40 });
      // Progress is reported once per iteration, in order, batches or not.
      expect(seen).toEqual(Array.from({ length: 40 }, (_, i) => i));
      // The munmaps freed pages (the kernel results came back for every iteration).
      expect(c.kernel.frees.data).toBeGreaterThan(0);
      if (outcome === 'caught') expect(c.violatingIterations).toBeGreaterThan(0);
    }
  });

  it('a violation carries the iteration and seed of its own iteration, as a single iteration reports it', async () => {
    const runner = new CombinationRunner(armDelayedFree, { arch: 'arm-2.6.37', hw: 'arm11mpcore' }, 3, pool(), 'stress');
    await runner.bind();
    const list = Array.from({ length: 12 }, (_, i) => ({ it: 100 + i, seed: iterationSeed(9, 100 + i) }));
    const { outcomes, abandoned } = await runner.batch(list);
    expect(abandoned).toBe(false);
    expect(outcomes).toHaveLength(12);
    for (const [j, o] of outcomes.entries()) {
      for (const v of o.violations.records) expect({ iteration: v.iteration, seed: v.seed }).toEqual({ iteration: list[j].it, seed: list[j].seed });
      // Counters are the iteration's own: a reset machine counts from zero.
      expect(o.counters).toHaveLength(3);
      expect(o.kernels[0].script.length).toBeGreaterThan(0);
    }
    expect(outcomes.some((o) => o.violations.total > 0)).toBe(true);
  });

  it('stopAtFirst ends the batch at the first violating iteration', async () => {
    const runner = new CombinationRunner(armDelayedFree, { arch: 'arm-2.6.37', hw: 'arm11mpcore' }, 3, pool(), 'stress');
    await runner.bind();
    const list = Array.from({ length: 60 }, (_, i) => ({ it: i, seed: iterationSeed(3, i) }));
    const { outcomes } = await runner.batch(list, { stopAtFirst: true });
    const first = outcomes.findIndex((o) => o.violations.total > 0);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(outcomes).toHaveLength(first + 1);
  });

  it('a stop request ends the batch after the iteration in progress, and the run is reported interrupted', async () => {
    const runner = new CombinationRunner(armDelayedFree, { arch: 'arm-2.6.38', hw: 'arm11mpcore' }, 3, pool(), 'stress');
    await runner.bind();
    const list = Array.from({ length: 20_000 }, (_, i) => ({ it: i, seed: iterationSeed(4, i) }));
    const t0 = performance.now();
    const { outcomes, abandoned } = await runner.batch(list, { shouldStop: () => performance.now() - t0 > 100 });
    expect(abandoned).toBe(false);
    expect(outcomes.length).toBeGreaterThan(0);
    expect(outcomes.length).toBeLessThan(list.length);
    // Through runScenario: what ran is counted, and the report says it was interrupted.
    const t1 = performance.now();
    const r = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'arm11mpcore', cpus: 3, iterations: 20_000, pool: pool(), shouldStop: () => performance.now() - t1 > 300 });
    expect(r.interrupted).toBe(true);
    expect(r.combinations[0].iterations).toBeGreaterThan(0);
    expect(r.combinations[0].iterations).toBeLessThan(20_000);
  });

  it('under the host-core gate each thread keeps its core from one iteration to the next, and every core is free again when the batch ends', async () => {
    // 4 CPU threads on 2 gated cores, whatever this host has.
    const runner = new CombinationRunner(armDelayedFree, { arch: 'arm-2.6.37', hw: 'arm11mpcore' }, 4, pool(), 'stress', undefined, 2);
    expect(runner.coreTokens).toBe(2);
    await runner.bind();
    const i32 = runner.machine.i32;
    const L = runner.machine.layout;
    for (const seed of [5, 6]) {
      const list = Array.from({ length: 15 }, (_, i) => ({ it: i, seed: iterationSeed(seed, i) }));
      const { outcomes, abandoned } = await runner.batch(list);
      expect(abandoned).toBe(false);
      expect(outcomes).toHaveLength(15);
      // Each iteration still starts from a reset machine: its own counters, its own kernel results.
      for (const o of outcomes) {
        expect(o.kernels[0].script.length).toBeGreaterThan(0);
        expect(o.counters[1].steps).toBeGreaterThan(0);
      }
      expect(outcomes.some((o) => o.violations.total > 0)).toBe(true);
      // No core lost or held across the resets: both free, nobody queued, every thread out.
      expect([Atomics.load(i32, H.CORE_TOKENS), Atomics.load(i32, H.CORE_FREE), Atomics.load(i32, H.CORE_QUEUED), Atomics.load(i32, H.CORE_URGENT)]).toEqual([2, 2, 0, 0]);
      for (let c = 0; c < 4; c++) expect(Atomics.load(i32, L.cpu(c, C.CORE_STATE))).toBe(CoreState.OUT);
    }
  });

  it.each([0, 1])('abandoned mid-batch (%i gated cores): the threads leave and the iterations completed before come back, marked abandoned', async (tokens) => {
    const p = pool();
    const m = Machine.create({ cpus: 2, frames: 64 });
    await p.bind(m);
    prepareIteration(m, 0, 1, tokens);
    // Iteration 0 ends at once; in iteration 1 CPU 1 raises scratch flag 1, then both wait for flag 0, which nobody sets.
    const done: CpuTask = { role: 'script', args: [] };
    const stuck = (raise: boolean): CpuTask => ({ role: 'script', args: [...(raise ? [{ op: 'setFlag', flag: 1, value: 1 }] : []), { op: 'waitFlag', flag: 0, value: 1 }] });
    const controller = new AbortController();
    const running = p.runBatch(
      [
        { tasks: [done, stuck(false)], iterations: [{ it: 0, seed: 1 }, { it: 1, seed: 2 }], coreTokens: tokens },
        { tasks: [done, stuck(true)] },
      ],
      controller.signal,
    );
    // Iteration 1 has begun once CPU 1 raised the flag (the reset for it cleared the buffer before).
    // (setFlag rings doorbells, not the flag's word: look at it between turns of the event loop.)
    while (Atomics.load(m.i32, H.SCRATCH + 1) === 0) await new Promise((r) => setImmediate(r));
    controller.abort();
    const got = await running;
    expect(got.map((g) => g.abandoned)).toEqual([true, true]);
    expect(got[0].snapshots).toHaveLength(1);
    expect(got.map((g) => g.results.length)).toEqual([1, 1]);
    // The pool is usable afterwards.
    const after = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'arm11mpcore', cpus: 2, iterations: 4, pool: p });
    expect(after.combinations[0]).toMatchObject({ outcome: 'clean', iterations: 4 });
  });

  // Would take the waitFlag's 60 s watchdog if the others waited for the dead thread.
  it.each([0, 1])('a thread that dies mid-batch (%i gated cores): the others leave at once, and the batch fails naming the dead CPU', { timeout: 30_000 }, async (tokens) => {
    const p = pool();
    const m = Machine.create({ cpus: 2, frames: 64 });
    await p.bind(m);
    prepareIteration(m, 0, 1, tokens);
    // The start barrier: under the gate the waiting CPU hands its core to the one that dies.
    const wait: CpuTask = { role: 'script', args: [{ op: 'waitFlag', flag: 0, value: 1 }], barrier: 2 };
    const running = p.runBatch([{ tasks: [wait], iterations: [{ it: 0, seed: 1 }], coreTokens: tokens }, { tasks: [{ role: 'exitThread', barrier: 2 }] }]);
    await expect(running).rejects.toBeInstanceOf(CpuThreadDied);
    await expect(running).rejects.toThrow(/CPU 1/);
    // The next bind replaces the threads: the pool stays usable.
    const after = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'arm11mpcore', cpus: 2, iterations: 3, pool: p });
    expect(after.combinations[0]).toMatchObject({ outcome: 'clean', iterations: 3 });
  });
});
