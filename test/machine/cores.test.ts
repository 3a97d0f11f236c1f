import { describe, expect, it } from 'vitest';
import type { CoreGateProbeResult } from '../../src/harness/thread/core-gate-roles.js';
import { runScenario } from '../../src/harness/runner.js';
import { armCores, coreTokens, hostCores } from '../../src/machine/cores.js';
import { cli } from '../cli/helpers.js';
import { H } from '../../src/machine/layout.js';
import { Machine } from '../../src/machine/index.js';
import { findScenario } from '../../scenarios/index.js';
import { usePool } from '../helpers.js';
import { mapPages } from '../../bench/setup.js';

const pool = usePool();

describe('host-core gate: when it is armed', () => {
  it('a reset that keeps the gate (between the iterations of a batch) writes none of its words and clears everything else', () => {
    const m = Machine.create({ cpus: 3, frames: 32 });
    const fresh = Machine.create({ cpus: 3, frames: 32 });
    const keep = m.layout.coreGateWords();
    expect(keep).toContain(H.CORE_LOCK);
    // Every word scribbled, as a finished iteration (and threads using the gate) leave them.
    m.i32.fill(7);
    m.views.f64.fill(7);
    m.reset(0, 0, true);
    for (let w = 0; w < m.i32.length; w++) expect(m.i32[w]).toBe(keep.includes(w) ? 7 : fresh.i32[w]);
    expect(Array.from(m.views.f64)).toEqual(Array.from(fresh.views.f64));
    // A plain reset clears them too.
    m.reset(0, 0);
    for (const w of keep) expect(m.i32[w]).toBe(0);
  });

  it('gates only when the CPU threads outnumber the host cores', () => {
    expect(coreTokens(2, 2)).toBe(0);
    expect(coreTokens(4, 8)).toBe(0);
    expect(coreTokens(5, 2)).toBe(2);
    expect(coreTokens(9, 4)).toBe(4);
    expect(coreTokens(9, 0)).toBe(0);
  });

  it('SMPSIM_HOST_CORES sets the cores it assumes (0: off); anything but a whole number is refused, one line, exit 2', async () => {
    const saved = process.env.SMPSIM_HOST_CORES;
    try {
      process.env.SMPSIM_HOST_CORES = '3';
      expect(hostCores()).toBe(3);
      process.env.SMPSIM_HOST_CORES = '0';
      expect(coreTokens(9, hostCores())).toBe(0);
      for (const bad of ['abc', '-1', '2.5', '1e3']) {
        process.env.SMPSIM_HOST_CORES = bad;
        expect(() => hostCores()).toThrow(`SMPSIM_HOST_CORES='${bad}'`);
      }
    } finally {
      if (saved === undefined) delete process.env.SMPSIM_HOST_CORES;
      else process.env.SMPSIM_HOST_CORES = saved;
    }
    const r = await cli(['run', 'arm-delayed-free', '--iterations', '1'], { env: { SMPSIM_HOST_CORES: 'two' } });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe("smpsim: SMPSIM_HOST_CORES='two': a whole number of host cores, 0 to 9999 (0 turns the host-core gate off)\n");
  });
});

describe('host-core gate in real threads', () => {
  for (const [cpus, tokens] of [
    [4, 1],
    [5, 2],
    [9, 2],
  ] as const) {
    it(`${cpus} threads on ${tokens} core(s): never more than ${tokens} execute at once, cores change hands, waits give theirs away`, async () => {
      const m = Machine.create({ cpus, frames: 64 });
      await pool().bind(m);
      m.reset();
      armCores(m.i32, tokens);
      const res = await pool().run(Array.from({ length: cpus }, () => ({ role: 'coreGateProbe', args: { rounds: 4000 }, barrier: cpus })));
      const out = res.map((r) => r.result as CoreGateProbeResult);
      expect(Math.max(...out.map((o) => o.most))).toBeLessThanOrEqual(tokens);
      expect(Atomics.load(m.i32, H.SCRATCH + 9)).toBeLessThanOrEqual(tokens);
      // Every thread went round the relay every time: no wait kept a core it needed to give.
      for (const o of out) expect(o.relays).toBe(500);
      // Cores changed hands: every thread past the first `tokens` queued for one (a ticket each) and, since
      // all finished, got it by hand-off. (How many slice hand-offs happen on top depends on the host's timing.)
      expect(Atomics.load(m.i32, H.CORE_TICKET)).toBeGreaterThanOrEqual(cpus - tokens);
      // Every token came back: all free, nobody queued.
      expect(Atomics.load(m.i32, H.CORE_FREE)).toBe(tokens);
      expect(Atomics.load(m.i32, H.CORE_QUEUED)).toBe(0);
    }, 60_000);
  }
});

describe('host-core gate: IPIs to a CPU queued for a core', () => {
  // A target queued at its run loop's quantum boundary may have its IPI taken
  // for it by the sender (flush-initiator.ts takeForTarget), else it takes it
  // itself once it has a core: either way once, acknowledged, and counted.
  it('3 threads on 1 core: every IPI acknowledged and counted once on its target', async () => {
    const m = Machine.create({ cpus: 3, frames: 64 });
    await pool().bind(m);
    m.reset();
    m.pt.createSpace(0);
    mapPages(m, 0, 0, 8);
    armCores(m.i32, 1);
    const work = { role: 'workload', args: { workload: { spaces: [0], ranges: [{ start: 0, pages: 8 }], mix: { load: 1, store: 0, fetch: 0 } }, seed: 3 }, barrier: 3 };
    const [sender] = await pool().run([{ role: 'ipiSender', args: { target: 1, samples: 400, warmup: 0 }, barrier: 3 }, work, work]);
    expect(sender.result as number[]).toHaveLength(400);
    expect([m.counters(1).ipisReceived, m.counters(2).ipisReceived]).toEqual([400, 0]);
    expect(m.counters(0).ipisSent).toBe(400);
    // The targets ran their workloads meanwhile, and every core came back.
    expect(m.counters(1).steps).toBeGreaterThan(0);
    expect([Atomics.load(m.i32, H.CORE_FREE), Atomics.load(m.i32, H.CORE_QUEUED)]).toEqual([1, 0]);
  }, 60_000);
});

describe('host-core gate: findings unchanged', () => {
  // The gate is a scheduler: delays, never a different machine. A fixed policy
  // stays clean and a buggy one is still caught, however few cores it gates to.
  // Each combination stops at its first violation: a caught one needs no more.
  const s = findScenario('arm-delayed-free')!;
  for (const hostCores of [1, 2]) {
    it(`arm-delayed-free at 5 CPUs on ${hostCores} gated core(s): the delayed-free fix clean, the 2.6.37 policies caught`, async () => {
      const r = await runScenario({ scenario: s, cpus: 5, iterations: 30, hostCores, pool: pool(), stopAtFirst: true });
      for (const c of r.combinations) expect(c.outcome, c.archLabel + ' on ' + c.hw).toBe(s.combinations.find((x) => x.arch === c.arch && x.hw === c.hw)!.expect);
    }, 120_000);
  }

  it('broadcast gup_fast at 5 CPUs on 2 gated cores: caught in stress mode, the RCU/IPI-protected ones clean', async () => {
    const g = findScenario('gup-fast-vs-table-free')!;
    const combos = g.combinations.filter((c) => (c.arch === 'generic-2011-series' && (c.hw === 'armv7-mp' || c.hw === 'x86')) || (c.arch === 'linux-6' && c.hw === 'arm64'));
    const r = await runScenario({ scenario: g, combinations: combos, cpus: 5, iterations: 40, hostCores: 2, pool: pool(), stopAtFirst: true });
    for (const c of r.combinations) expect(c.outcome, c.archLabel + ' on ' + c.hw).toBe(combos.find((x) => x.arch === c.arch && x.hw === c.hw)!.expect);
  }, 120_000);
});
