import { Machine } from '../../machine/machine.js';
import { FrameKind, Pte } from '../../machine/constants.js';
import { type CpuPool, IterationAbandoned, type StopOptions } from '../pool.js';
import { type CostModel, DEFAULT_COSTS } from './cost.js';
import { type LatencySummary, logBins, summarise } from './histogram.js';
import { formatNs } from './output.js';
import { histogramSvg } from './svg.js';

export interface IpiBenchOptions extends StopOptions {
  /** Samples of each series (IPI and raw ping-pong). */
  samples: number;
  /** Alternating rounds the samples are split into (default 10). */
  rounds?: number;
  warmup?: number;
  costs?: CostModel;
  /** Called as each round begins. */
  onProgress?: (text: string) => void;
}

export interface IpiBenchResult {
  bench: 'ipi';
  hostCores: number;
  samples: number;
  rounds: number;
  /** IPI round trip (post, handle at an instruction boundary, acknowledge), target spinning in its run loop. */
  ipi: LatencySummary;
  /** Raw Atomics ping-pong between the same two threads. */
  raw: LatencySummary;
  /** ipi.p50Ns / raw.p50Ns, and the same at p99. */
  ratioP50: number;
  ratioP99: number;
  /** Modelled cycles of one IPI round trip (send + receive). */
  modelledCycles: number;
  /** Stopped early (StopOptions): only the rounds completed are in it. */
  interrupted: boolean;
  /** Raw samples in ns (for plots; not in --json unless asked). */
  ipiSamples: number[];
  rawSamples: number[];
}

function map(m: Machine, asid: number, start: number, pages: number): void {
  for (let v = start; v < start + pages; v++) {
    const f = m.alloc.alloc(FrameKind.DATA, asid);
    if (f < 0 || !m.pt.map(asid, v, f, Pte.WRITE)) throw new Error('bench: out of frames');
  }
}

/**
 * The round trip of one IPI to a CPU in its run loop (the bench-roles
 * ipiSender against a target spinning in `workload`), beside a raw Atomics
 * ping-pong between the same two threads, in alternating rounds: this
 * host's cross-core latency drifts, so only a same-run ratio means much.
 */
export async function benchIpi(pool: CpuPool, o: IpiBenchOptions): Promise<IpiBenchResult> {
  const rounds = Math.max(1, Math.min(o.rounds ?? 10, o.samples));
  const warmup = o.warmup ?? 200;
  const per = Math.ceil(o.samples / rounds);
  const m = Machine.create({ cpus: 2, frames: 256, ipiTimeoutMs: 30_000 });
  await pool.bind(m);
  const ipi: number[] = [];
  const raw: number[] = [];
  let done = 0;
  let interrupted = false;
  for (let k = 0; k < rounds; k++) {
    if (o.shouldStop?.()) {
      interrupted = true;
      break;
    }
    o.onProgress?.(`ipi: round ${k + 1} of ${rounds}`);
    try {
      m.reset();
      const [c] = await pool.run(
        [
          { role: 'rawPingClient', args: { samples: per, warmup }, barrier: 2 },
          { role: 'rawPingServer', barrier: 2 },
        ],
        o.abort,
      );
      m.reset();
      m.pt.createSpace(0);
      map(m, 0, 0, 8);
      const [s] = await pool.run(
        [
          { role: 'ipiSender', args: { target: 1, samples: per, warmup }, barrier: 2 },
          { role: 'workload', args: { workload: { spaces: [0], ranges: [{ start: 0, pages: 8 }], mix: { idle: 1, load: 0, store: 0, fetch: 0 } }, seed: 1 }, barrier: 2 },
        ],
        o.abort,
      );
      // Both series of a round, or neither: the ratio compares like with like.
      // (A loop, not push(...xs): a round may hold a million samples, more arguments than a call takes.)
      for (const v of c.result as number[]) raw.push(v);
      for (const v of s.result as number[]) ipi.push(v);
      done++;
    } catch (e) {
      if (!(e instanceof IterationAbandoned)) throw e;
      interrupted = true;
      break;
    }
  }
  const is = summarise(ipi);
  const rs = summarise(raw);
  const c = o.costs ?? DEFAULT_COSTS;
  const { availableParallelism } = await import('node:os');
  return {
    bench: 'ipi',
    hostCores: availableParallelism(),
    samples: ipi.length,
    rounds: done,
    ipi: is,
    raw: rs,
    ratioP50: rs.p50Ns ? is.p50Ns / rs.p50Ns : 0,
    ratioP99: rs.p99Ns ? is.p99Ns / rs.p99Ns : 0,
    modelledCycles: c.ipiSend + c.ipiReceive,
    interrupted,
    ipiSamples: ipi,
    rawSamples: raw,
  };
}

export function ipiSvg(r: IpiBenchResult): string {
  const a = logBins([...r.ipiSamples, ...r.rawSamples]);
  const bins = (xs: number[]): number[] => {
    const counts = new Array<number>(a.counts.length).fill(0);
    const lo = Math.log10(a.edges[0]);
    const step = (Math.log10(a.edges[a.edges.length - 1]) - lo) / a.counts.length;
    for (const v of xs) if (v > 0) counts[Math.min(counts.length - 1, Math.max(0, Math.floor((Math.log10(v) - lo) / step)))]++;
    return counts;
  };
  return histogramSvg(`IPI round trip vs raw Atomics ping-pong (${r.samples} samples each, ${r.hostCores} host cores)`, 'round-trip latency', [
    { name: `IPI round trip (p50 ${formatNs(r.ipi.p50Ns)}, p99 ${formatNs(r.ipi.p99Ns)})`, edges: a.edges, counts: bins(r.ipiSamples) },
    { name: `raw ping-pong (p50 ${formatNs(r.raw.p50Ns)}, p99 ${formatNs(r.raw.p99Ns)})`, edges: a.edges, counts: bins(r.rawSamples) },
  ]);
}
