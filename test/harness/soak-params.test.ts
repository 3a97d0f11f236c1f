import { describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { PARAM_ALLOC_ORDERS, PARAM_BATCHES, PARAM_CPUS, PARAM_SIZES, type ParamPoint, paramPoints } from '../../src/harness/param-points.js';
import type { Scenario } from '../../src/harness/scenario.js';
import { runParamSweep } from '../../src/harness/soak-params.js';
import { runSoak } from '../../src/harness/soak.js';
import { stuckScenario, usePool } from '../helpers.js';

const pool = usePool();

describe('the parameter sweep', () => {
  it('gives each combination every CPU count, batch capacity, allocator order and small/large pair; over 30 combinations every pair of values', () => {
    const dims = [PARAM_CPUS, PARAM_BATCHES, PARAM_ALLOC_ORDERS, PARAM_SIZES, PARAM_SIZES] as readonly (readonly (number | string)[])[];
    const row = (p: ParamPoint): (number | string)[] => [p.cpus, p.batchCapacity, p.allocOrder, p.tlb, p.walkCache];
    for (let offset = 0; offset < 30; offset++) {
      const round = paramPoints(offset).map(row);
      expect(round).toHaveLength(PARAM_CPUS.length);
      dims.forEach((values, i) => expect(new Set(round.map((r) => r[i])), `offset ${offset}, dimension ${i}`).toEqual(new Set(values)));
      expect(new Set(round.map((r) => `${r[3]}/${r[4]}`)).size).toBe(4);
    }
    const all = Array.from({ length: 30 }, (_, o) => paramPoints(o).map(row)).flat();
    for (let i = 0; i < dims.length; i++) {
      for (let j = i + 1; j < dims.length; j++) {
        for (const a of dims[i]) for (const b of dims[j]) expect(all.some((r) => r[i] === a && r[j] === b), `${a} with ${b}`).toBe(true);
      }
    }
  });

  it('runs each clean combination on each machine, skips (and says why) CPU counts the kernel CPUs do not fit, and keeps hardware without a walk cache without one', async () => {
    // CPU 2 runs a kernel script (an empty one): the scenario needs 3 CPUs at least.
    const s: Scenario = {
      ...armDelayedFree,
      kernelCpus: [{ cpu: 2, script: [] }],
      combinations: [
        { arch: 'arm-2.6.38', hw: 'arm11mpcore', expect: 'clean' },
        { arch: 'arm-2.6.37', hw: 'arm11mpcore', expect: 'caught' },
        { arch: 'linux-6', hw: 'x86', expect: 'clean' },
      ],
    };
    const points: ParamPoint[] = [
      { cpus: 2, batchCapacity: 7, allocOrder: 'fifo', tlb: 'large', walkCache: 'large' },
      { cpus: 3, batchCapacity: 1, allocOrder: 'random', tlb: 'small', walkCache: 'small' },
      { cpus: 4, batchCapacity: 500, allocOrder: 'lifo', tlb: 'large', walkCache: 'large' },
    ];
    const lines: string[] = [];
    const r = await runParamSweep({ scenarios: [s], pool: pool(), points, onLine: (l) => lines.push(l) });
    expect(r).toMatchObject({ combinations: 2, runs: 4, iterations: 4, violations: 0, failures: [] });
    expect([...r.skipped]).toEqual([[`${s.name}: kernelCpus lists CPU 2: needs at least 3 CPUs`, 2]]);
    expect(Object.fromEntries(r.coverage.get('walk cache')!)).toEqual({ 'none (the hardware has none)': 2, small: 1, large: 1 });
    expect(Object.fromEntries(r.coverage.get('CPUs')!)).toEqual({ 3: 2, 4: 2 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^ok {3}arm-delayed-free +arm-2\.6\.38 \/ arm11mpcore +\[parameters\] 2 machines, 2 iterations, 0 violations \(1 skipped\)$/);
  });

  it('a stuck CPU fails its machine, named, and the sweep goes on', async () => {
    // The scenario's own watchdog (300 ms) is kept.
    const points: ParamPoint[] = [
      { cpus: 3, batchCapacity: 7, allocOrder: 'fifo', tlb: 'large', walkCache: 'large' },
      { cpus: 4, batchCapacity: 1, allocOrder: 'lifo', tlb: 'small', walkCache: 'small' },
    ];
    const lines: string[] = [];
    const r = await runParamSweep({ scenarios: [stuckScenario(300)], pool: pool(), points, onLine: (l) => lines.push(l) });
    expect(r.failures).toHaveLength(2);
    expect(r.failures[0]).toMatch(/^stuck linux-6 \/ x86 \[3 CPUs, batch 7, fifo, large TLB, large walk cache\]: CPU 2 did not acknowledge IPI #\d+ from CPU 0 within 0\.3 s/);
    expect(lines.at(-1)).toMatch(/^FAIL stuck +linux-6 \/ x86 +\[parameters\] 0 machines, 0 iterations, 0 violations, 2 failed$/);
  });

  it('is part of the soak when asked (paramIterations)', async () => {
    const s = { ...armDelayedFree, combinations: [{ arch: 'arm-2.6.38', hw: 'arm11mpcore', expect: 'clean' as const }] };
    const r = await runSoak({ scenarios: [s], iterations: 2, pool: pool(), sweepIterations: 0, paramIterations: 1, paramPoints: paramPoints().slice(0, 2) });
    expect(r.params?.coverage.get('CPUs')).toEqual(new Map([['2', 1], ['3', 1]]));
    expect(r.params).toMatchObject({ runs: 2, violations: 0 });
    expect(r.ok).toBe(true);
  });
});
