import { describe, expect, it } from 'vitest';
import armDelayedFree from '../../scenarios/arm-delayed-free.js';
import { summarise, mergeSummaries } from '../../src/harness/bench/histogram.js';
import { DEFAULT_COSTS } from '../../src/harness/bench/cost.js';
import { asBenchReport, mergeBenchReports } from '../../src/harness/bench/merge.js';
import { provenance } from '../../src/harness/provenance.js';
import { mergeReports } from '../../src/harness/merge.js';
import { type RunOptions, iterationSeed, runScenario } from '../../src/harness/runner.js';
import { ownsIteration, shardIterations } from '../../src/harness/shard.js';
import { usePool } from '../helpers.js';

const pool = usePool();

/** Run (a shard of) a stress run, noting the index and seed of every iteration it runs, per combination. */
async function seedsOf(o: Partial<RunOptions>): Promise<{ report: Awaited<ReturnType<typeof runScenario>>; ran: string[] }> {
  const ran: string[] = [];
  const report = await runScenario({
    scenario: armDelayedFree,
    arch: ['arm-2.6.37', 'linux-6'],
    hw: 'armv7-mp',
    cpus: 2,
    iterations: 9,
    pool: pool(),
    onProgress: (p) => ran.push(`${p.label} #${p.index} seed ${p.seed}`),
    ...o,
  });
  return { report, ran };
}

describe('the partition', () => {
  it('gives every iteration to exactly one shard, and counts each shard its share', () => {
    for (const n of [1, 2, 3, 7]) {
      for (const total of [n, n + 1, 50]) {
        for (let it = 0; it < total; it++) expect(Array.from({ length: n }, (_, k) => ownsIteration({ k: k + 1, n }, it)).filter(Boolean)).toHaveLength(1);
        const shares = Array.from({ length: n }, (_, k) => shardIterations({ k: k + 1, n }, total));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.min(...shares)).toBeGreaterThan(0);
      }
    }
    expect(shardIterations({ k: 2, n: 4 }, Infinity)).toBe(Infinity);
  });
});

describe('stress shards', () => {
  it('run the iteration seeds of the unsharded run, each once, and merge to its iteration count', async () => {
    const whole = await seedsOf({ seed: 5 });
    const shards = [];
    for (let k = 1; k <= 3; k++) shards.push(await seedsOf({ seed: 5, shard: { k, n: 3 } }));
    const all = shards.flatMap((s) => s.ran);
    expect(new Set(all).size).toBe(all.length);
    expect([...all].sort()).toEqual([...whole.ran].sort());
    expect(whole.ran).toContain(`linux-6 / armv7-mp #8 seed ${iterationSeed(5, 8)}`);
    shards.forEach((s, i) => {
      for (const line of s.ran) expect(Number(/#(\d+)/.exec(line)![1]) % 3).toBe(i);
      expect(s.report.shard).toEqual({ k: i + 1, n: 3 });
    });
    const { report, notes } = mergeReports(shards.map((s, i) => ({ name: `shard-${i + 1}`, report: s.report })));
    expect(notes).toEqual([]);
    expect(report.combinations.map((c) => c.iterations)).toEqual([9, 9]);
    for (const [ci, c] of report.combinations.entries()) {
      const parts = shards.map((s) => s.report.combinations[ci]);
      expect(c.violations).toBe(parts.reduce((t, p) => t + p.violations, 0));
      expect(c.machine.accesses).toBe(parts.reduce((t, p) => t + p.machine.accesses, 0));
      const firsts = parts.flatMap((p) => (p.firstViolatingIteration === null ? [] : [p.firstViolatingIteration]));
      expect(c.firstViolatingIteration).toBe(firsts.length ? Math.min(...firsts) : null);
      expect(c.firstViolation?.iteration ?? null).toBe(c.firstViolatingIteration);
    }
  });

  it('a shard cannot stop at its first violation (it cannot know where another stopped)', async () => {
    await expect(runScenario({ scenario: armDelayedFree, arch: ['linux-6'], hw: 'armv7-mp', cpus: 2, iterations: 4, shard: { k: 1, n: 2 }, stopAtFirst: true, pool: pool() })).rejects.toThrow(/stopAtFirst cannot be sharded/);
  });
});

describe('bench reports', () => {
  const a = Array.from({ length: 3000 }, (_, i) => 200 + ((i * 7919) % 5000));
  const b = Array.from({ length: 1000 }, (_, i) => 4000 + i * 11);

  it('latency histograms add up to the histogram of all the samples', () => {
    const { meanNs, ...merged } = mergeSummaries([summarise(a), summarise(b)]);
    const { meanNs: mean, ...whole } = summarise([...a, ...b]);
    expect(merged).toEqual(whole);
    expect(meanNs).toBeCloseTo(mean, 6);
  });

  it('bench ipi reports merge: samples add up, percentiles come from the summed histogram', () => {
    const report = (ipi: number[], raw: number[], argv: string[]) => ({ tool: 'smpsim', version: '0.1.0', provenance: provenance(argv), bench: 'ipi', hostCores: 2, samples: ipi.length, rounds: 2, ipi: summarise(ipi), raw: summarise(raw), ratioP50: 1, ratioP99: 1, modelledCycles: 4000, interrupted: false, costs: DEFAULT_COSTS });
    const here = provenance(['merge', 'x', 'y']);
    const merged = mergeBenchReports([asBenchReport('x', report(a, b, ['bench', 'ipi', '-x'])), asBenchReport('y', report(b, a, ['bench', 'ipi', '-y']))], here);
    expect(merged).toMatchObject({ bench: 'ipi', samples: 4000, rounds: 4, provenance: here, merged: { reports: 2 } });
    // Where each part came from is kept, by file.
    expect(merged.merged!.sources.map((s) => [s.file, s.provenance.argv.at(-1)])).toEqual([['x', '-x'], ['y', '-y']]);
    if (merged.bench !== 'ipi') throw new Error('not ipi');
    const { meanNs: _m, ...whole } = summarise([...a, ...b]);
    expect(merged.ipi).toMatchObject(whole);
    expect(merged.ratioP50).toBe(1);
    expect(() => mergeBenchReports([asBenchReport('x', report(a, b, [])), asBenchReport('y', { ...report(a, b, []), hostCores: 8 })])).toThrow(/^y: host cores 8, but x has 2: only reports of one benchmark merge$/);
    expect(() => asBenchReport('p', { bench: 'policies' })).toThrow(/bench policies report holds no histograms/);
  });
});
