import type { CpuPool } from '../src/harness/pool.js';
import { Machine, type OpMix } from '../src/machine/index.js';
import { mapPages } from './setup.js';
import { summarise } from '../src/harness/bench/histogram.js';
import { formatNs } from '../src/harness/bench/output.js';
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

/** Round trips (ns) of IPIs from CPU 0 to CPU 1 while CPU 1 runs `mix` in its run loop. */
async function ipiBlock(pool: CpuPool, m: Machine, samples: number, mix: Partial<OpMix>): Promise<number[]> {
  m.reset();
  m.pt.createSpace(0);
  mapPages(m, 0, 0, 8);
  const [s] = await pool.run([
    { role: 'ipiSender', args: { target: 1, samples, warmup: 500 }, barrier: 2 },
    { role: 'workload', args: { workload: { spaces: [0], ranges: [{ start: 0, pages: 8 }], mix }, seed: 1 }, barrier: 2 },
  ]);
  return s.result as number[];
}

const SPIN: Partial<OpMix> = { idle: 1, load: 0, store: 0, fetch: 0 };
const LOADS: Partial<OpMix> = { load: 1, store: 0, fetch: 0 };

/**
 * bench/ipi: the round trip of one IPI (post, handle at an instruction
 * boundary, acknowledge) to a CPU spinning in its run loop, beside a raw
 * Atomics ping-pong between the same two worker threads; then the same IPI to
 * a CPU busy with TLB-hit loads; then the rate of TLB-hit accesses in the run
 * loop beside a raw typed-array read loop. Measurements and baselines
 * alternate in rounds, so that both see the same host conditions (this
 * host's cross-core latency moves by 50% from one minute to the next).
 */
export async function benchIpi(pool: CpuPool, samples: number, rounds: number): Promise<{ lines: string[]; ok: boolean }> {
  const lines: string[] = [];
  const m = Machine.create({ cpus: 2, frames: 256 });
  await pool.bind(m);
  const raw: number[] = [];
  const spin: number[] = [];
  const busy: number[] = [];
  const per = Math.ceil(samples / rounds);
  for (let k = 0; k < rounds; k++) {
    raw.push(...(await rawBlock(pool, m, per)));
    spin.push(...(await ipiBlock(pool, m, per, SPIN)));
    busy.push(...(await ipiBlock(pool, m, per, LOADS)));
  }
  const rawMed = median(raw);
  const spinMed = median(spin);
  const busyMed = median(busy);
  // Percentiles as smpsim bench reports them (HdrHistogram, each at most the exact max).
  const fmt = (xs: number[]) => {
    const h = summarise(xs);
    return `p50 ${formatNs(h.p50Ns)}, p90 ${formatNs(h.p90Ns)}, p99 ${formatNs(h.p99Ns)}, p99.9 ${formatNs(h.p999Ns)}, max ${formatNs(h.maxNs)}`;
  };
  lines.push(`raw Atomics ping-pong between two CPU threads: ${fmt(raw)} (${raw.length} samples)`);
  lines.push(`IPI round trip, target spinning in its run loop: ${fmt(spin)}`);
  lines.push(`IPI round trip, target running TLB-hit loads:  ${fmt(busy)}`);
  const ipiOk = spinMed / rawMed <= 1.5;
  lines.push(verdict('IPI (spinning target) / raw ping-pong', spinMed / rawMed, '<= 1.5', ipiOk));
  lines.push(`IPI (busy target) / raw ping-pong: ratio ${(busyMed / rawMed).toFixed(2)} (no target; the target polls once per instruction)`);

  m.reset();
  m.pt.createSpace(0);
  mapPages(m, 0, 0, 16);
  const [hit] = await pool.run([{ role: 'hitRate', args: { asid: 0, pages: 16, steps: 1_000_000, rounds: 5, seed: 7 } }]);
  const h = hit.result as { simulated: number; raw: number; hits: number; accesses: number };
  const hitRatio = h.simulated / h.raw;
  lines.push(`TLB-hit accesses in the run loop: ${(h.simulated / 1e6).toFixed(1)} M/s (${((h.hits / h.accesses) * 100).toFixed(1)}% hits); raw typed-array read loop: ${(h.raw / 1e6).toFixed(1)} M/s`);
  const hitOk = hitRatio >= 0.25;
  lines.push(verdict('TLB-hit rate / raw read rate', hitRatio, '>= 0.25', hitOk));
  return { lines, ok: ipiOk && hitOk };
}
