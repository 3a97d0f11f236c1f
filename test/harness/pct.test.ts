import { describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { findScenario } from '../../scenarios/index.js';
import { replay } from '../../src/harness/replay.js';
import { decodeReplay, encodeReplay, scheduleOf } from '../../src/harness/replay-token.js';
import { runScenario } from '../../src/harness/runner.js';
import { usePool } from '../helpers.js';

const pool = usePool();

describe('controlled (pct) mode', () => {
  it('finds the delayed-free race, and its token replays the same interleaving 20 times in a row', async () => {
    const report = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.37'], hw: 'arm11mpcore', cpus: 3, mode: 'pct', iterations: 40, seed: 1, pool: pool(), stopAtFirst: true });
    const c = report.combinations[0];
    expect(c.outcome).toBe('caught');
    expect(c.replay).toMatch(/^smp2\./);
    const hashes = new Set<string>();
    let first: Awaited<ReturnType<typeof replay>> | undefined;
    for (let i = 0; i < 20; i++) {
      const r = await replay(c.replay!, { pool: pool(), loadScenario: async (ref) => findScenario(ref)! });
      hashes.add(r.hash);
      first ??= r;
    }
    expect(hashes.size).toBe(1);
    // The replay shows the violation the run reported, and the interleaving ends at it.
    expect(first!.violations[0]).toMatchObject({ kind: c.firstViolation!.kind, cpu: c.firstViolation!.cpu, vpn: c.firstViolation!.vpn, frame: c.firstViolation!.frame });
    expect(first!.interleaving.at(-1)).toMatch(/VIOLATION stale-data-access/);
    expect(first!.interleaving.some((l) => /free frame/.test(l))).toBe(true);
  });

  it('gives the same interleaving for the same seed whatever else ran before', async () => {
    const run = () => runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'armv7-mp', cpus: 3, mode: 'pct', iterations: 3, seed: 77, pool: pool() });
    const a = await run();
    const b = await run();
    expect(a.combinations[0].outcome).toBe('clean');
    expect(b.combinations[0].machine).toEqual(a.combinations[0].machine);
    expect(b.combinations[0].kernel).toEqual(a.combinations[0].kernel);
  });

  it('round-trips replay tokens and refuses damaged ones', () => {
    const spec = { scenario: 'arm-delayed-free', arch: 'generic-range', archOptions: { itlb: 'always' as const }, hw: 'x86', cpus: 4, iteration: 12, seed: 4_000_000_000, depth: 3, k: 5000 };
    // The token writes the schedule PCT draws for (seed, depth, k) out, and replays with exactly it.
    const { k: _k, ...rest } = spec;
    expect(decodeReplay(encodeReplay(spec))).toEqual({ ...rest, schedule: scheduleOf(spec) });
    expect(scheduleOf(spec).changes).toHaveLength(2);
    expect(() => decodeReplay('smp1.!!!')).toThrow(/damaged/);
    expect(() => decodeReplay('smp2.!!!')).toThrow(/damaged/);
    expect(() => decodeReplay('hello')).toThrow(/not a replay token/);
  });
});

describe('warm worker pool', () => {
  it('runs many iterations without starting new threads', async () => {
    await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'arm11mpcore', cpus: 4, iterations: 2, pool: pool() });
    const started = pool().threadsStarted;
    const ids = pool().threadIds();
    const r = await runScenario({ scenario: armDelayedFree, arch: ['arm-2.6.38'], hw: 'armv7-mp', cpus: 4, iterations: 60, pool: pool() });
    expect(r.combinations[0].iterations).toBe(60);
    expect(pool().threadsStarted).toBe(started);
    expect(pool().threadIds()).toEqual(ids);
  });
});
