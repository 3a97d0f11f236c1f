import { benchIpi as harnessBenchIpi, type IpiBenchResult } from '../src/harness/bench/ipi.js';
import { summarise } from '../src/harness/bench/histogram.js';
import { formatNs } from '../src/harness/bench/output.js';
import type { CpuPool } from '../src/harness/pool.js';
import { Machine } from '../src/machine/index.js';
import { mapPages } from './setup.js';
import { median, verdict } from './stats.js';

/** Round trips (ns) of a raw Atomics ping-pong between CPU threads 0 and 1. */
async function rawBlock(pool: CpuPool, m: Machine, samples: number): Promise<number[]> {
  m.reset();
  const [c] = await pool.run([
    { role: 'rawPingClient', args: { samples, warmup: 500 }, barrier: 2 },
    { role: 'rawPingServer', barrier: 2 },
  ]);
  return c.result as number[];
}

/** Round trips (ns) of IPIs from CPU 0 to CPU 1 while CPU 1 runs TLB-hit loads in its run loop. */
async function busyBlock(pool: CpuPool, m: Machine, samples: number): Promise<number[]> {
  m.reset();
  m.pt.createSpace(0);
  mapPages(m, 0, 0, 8);
  const [s] = await pool.run([
    { role: 'ipiSender', args: { target: 1, samples, warmup: 500 }, barrier: 2 },
    { role: 'workload', args: { workload: { spaces: [0], ranges: [{ start: 0, pages: 8 }], mix: { load: 1, store: 0, fetch: 0 } }, seed: 1 }, barrier: 2 },
  ]);
  return s.result as number[];
}

const pct = (h: ReturnType<typeof summarise>): string =>
  `p50 ${formatNs(h.p50Ns)}, p90 ${formatNs(h.p90Ns)}, p99 ${formatNs(h.p99Ns)}, p99.9 ${formatNs(h.p999Ns)}, max ${formatNs(h.maxNs)}`;

/**
 * bench/ipi. The IPI figure is `smpsim bench ipi`'s, from the same function
 * with the same defaults (src/harness/bench/ipi.ts benchIpi): the round trip
 * of one IPI (post, handle at the target's next instruction boundary,
 * acknowledge) to a CPU idling in its run loop, beside a raw Atomics
 * ping-pong between the same two threads, in alternating rounds, as p50 and
 * p99 ratios. One figure, one meaning, whichever command prints it.
 *
 * Beside it, two figures of their own: the same IPI to a CPU busy with
 * TLB-hit loads (what polling once per instruction costs), against its own
 * raw ping-pong rounds; and the rate of TLB-hit accesses in the run loop
 * beside a raw typed-array read loop drawing from the same generator.
 */
export async function benchIpi(pool: CpuPool, samples: number, rounds: number): Promise<{ lines: string[]; ok: boolean; ipi: IpiBenchResult }> {
  const lines: string[] = [];
  const ipi = await harnessBenchIpi(pool, { samples, rounds });
  lines.push(`IPI round trip (smpsim bench ipi, ${ipi.samples} samples in ${ipi.rounds} rounds), target idle in its run loop: ${pct(ipi.ipi)}`);
  lines.push(`raw Atomics ping-pong between the same two threads: ${pct(ipi.raw)}`);
  const ipiOk = ipi.ratioP50 <= 1.2;
  lines.push(verdict('IPI / raw ping-pong at p50', ipi.ratioP50, '<= 1.2', ipiOk));
  lines.push(`IPI / raw ping-pong at p99: ratio ${ipi.ratioP99.toFixed(2)}`);

  const m = Machine.create({ cpus: 2, frames: 256 });
  await pool.bind(m);
  const raw: number[] = [];
  const busy: number[] = [];
  const per = Math.ceil(samples / rounds / 2);
  for (let k = 0; k < rounds; k++) {
    for (const v of await rawBlock(pool, m, per)) raw.push(v);
    for (const v of await busyBlock(pool, m, per)) busy.push(v);
  }
  lines.push(`IPI round trip, target running TLB-hit loads: ${pct(summarise(busy))}; its raw ping-pong rounds: p50 ${formatNs(median(raw))}`);
  lines.push(`IPI (busy target) / raw ping-pong at p50: ratio ${(median(busy) / median(raw)).toFixed(2)} (no target: the target polls once per instruction)`);

  m.reset();
  m.pt.createSpace(0);
  mapPages(m, 0, 0, 16);
  const [hit] = await pool.run([{ role: 'hitRate', args: { asid: 0, pages: 16, steps: 1_000_000, rounds: 5, seed: 7 } }]);
  const h = hit.result as { simulated: number; raw: number; hits: number; accesses: number };
  const hitRatio = h.simulated / h.raw;
  lines.push(`TLB-hit accesses in the run loop: ${(h.simulated / 1e6).toFixed(1)} M/s (${((h.hits / h.accesses) * 100).toFixed(1)}% hits); raw typed-array read loop: ${(h.raw / 1e6).toFixed(1)} M/s`);
  const hitOk = hitRatio >= 0.5;
  lines.push(verdict('TLB-hit rate / raw read rate', hitRatio, '>= 0.5', hitOk));
  return { lines, ok: ipiOk && hitOk, ipi };
}
