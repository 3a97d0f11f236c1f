import { armCores, coreTokens, hostCores as gateCores } from '../../machine/cores.js';
import { FLAVOURS } from '../../machine/flavours.js';
import { resolveConfig } from '../../machine/config.js';
import { Machine } from '../../machine/machine.js';
import { type CpuPool, IterationAbandoned, type StopOptions } from '../pool.js';
import type { CpuTask } from '../thread/worker-host.js';
import { type CostModel, DEFAULT_COSTS } from './cost.js';
import { type LatencySummary, summarise } from './histogram.js';
import type { MunmapTouchResult, ShootdownSenderResult } from '../thread/bench-roles.js';
import { type LineSeries, lineChartSvg } from './svg.js';

export type ShootdownFlavour = 'ipi' | 'broadcast';

export interface ShootdownBenchOptions extends StopOptions {
  cpus: number[];
  flavours?: ShootdownFlavour[];
  /** Shootdowns per point at most. */
  samples: number;
  /** munmap/madvise operations per point at most. */
  ops: number;
  /** Wall-time budget per measurement (ms); at least minSamples shootdowns and minOps operations are taken anyway. */
  budgetMs: number;
  /** Default 20 shootdowns and 10 operations. */
  minSamples?: number;
  minOps?: number;
  /** Policy of the munmap + touch runs (default linux-6). */
  arch?: string;
  /** Pages of the touched region (default 16). */
  pages?: number;
  costs?: CostModel;
  onProgress?: (text: string) => void;
  /** Host cores the CPU threads may use at once (default: this host's; 0: no host-core gate, machine/cores.ts). */
  hostCores?: number;
}

export interface ShootdownPoint {
  cpus: number;
  flavour: ShootdownFlavour;
  /** Hardware flavour whose machine it ran on. */
  hw: string;
  /** One shootdown of one page to every CPU of the mm. */
  latency: LatencySummary;
  shootdownsPerSecond: number;
  /** munmap + mmap + touch, with cpus - 1 threads touching. */
  munmapOpsPerSecond: number;
  munmap: LatencySummary;
  /** madvise(DONTNEED) + touch. */
  madvise: LatencySummary;
  madviseOpsPerSecond: number;
  /** Modelled cycles of one shootdown (every CPU's share). */
  modelledCycles: number;
  /** Whether more simulated CPUs than host cores ran (they then share cores). */
  oversubscribed: boolean;
}

export interface ShootdownBenchResult {
  bench: 'shootdown';
  hostCores: number;
  arch: string;
  pages: number;
  points: ShootdownPoint[];
  /** Stopped early (StopOptions): only the points completed are in it. */
  interrupted: boolean;
}

const HW: Record<ShootdownFlavour, string> = { ipi: 'x86', broadcast: 'arm64' };

/**
 * For each CPU count and flush flavour: the latency of one shootdown to every
 * CPU of the mm while the others run TLB-hit loads in it, and then the
 * stress-ng tlb-shootdown shape (the others touch a region while CPU 0
 * munmaps and re-maps it, or madvise(DONTNEED)s it, and touches it again).
 */
export async function benchShootdown(pool: CpuPool, o: ShootdownBenchOptions): Promise<ShootdownBenchResult> {
  const hostCores = gateCores();
  const flavours = o.flavours ?? ['ipi', 'broadcast'];
  const points: ShootdownPoint[] = [];
  let interrupted = false;
  measuring: for (const n of o.cpus) {
    for (const flavour of flavours) {
      if (o.shouldStop?.()) {
        interrupted = true;
        break measuring;
      }
      try {
        points.push(await shootdownPoint(pool, o, n, flavour, hostCores));
      } catch (e) {
        if (!(e instanceof IterationAbandoned)) throw e;
        interrupted = true;
        break measuring;
      }
    }
  }
  return { bench: 'shootdown', hostCores, arch: o.arch ?? 'linux-6', pages: o.pages ?? 16, points, interrupted };
}

/** One point: the shootdown latency, then munmap + touch and madvise + touch, with `n` CPUs on `flavour`'s hardware. */
async function shootdownPoint(pool: CpuPool, o: ShootdownBenchOptions, n: number, flavour: ShootdownFlavour, hostCores: number): Promise<ShootdownPoint> {
  const arch = o.arch ?? 'linux-6';
  const pages = o.pages ?? 16;
  const c = o.costs ?? DEFAULT_COSTS;
  const hw = HW[flavour];
  o.onProgress?.(`shootdown: ${n} CPU${n === 1 ? '' : 's'}, ${flavour}`);
  // No speculation: the targets' TLBs hold what they touch, nothing else.
  const cfg = resolveConfig({ ...FLAVOURS[hw].config, speculation: 0, cpus: n, frames: 1024, ipiTimeoutMs: 60_000 });
  const m = Machine.create(cfg);
  await pool.bind(m);
  const others = (role: string, workload: object): CpuTask[] =>
    Array.from({ length: n - 1 }, (_, i) => ({ role, args: { workload, seed: 1000 + i }, barrier: n }));

  m.reset();
  // As a stress run does: at most as many CPU threads execute as the host has cores (machine/cores.ts).
  armCores(m.i32, coreTokens(n, o.hostCores ?? hostCores));
  m.pt.createSpace(0);
  const loads = { spaces: [0], ranges: [{ start: 0, pages }], mix: { load: 1, store: 0, fetch: 0 } };
  const sd = await pool.run(
    [
      { role: 'shootdownSender', args: { asid: 0, samples: o.samples, warmup: Math.min(50, o.samples), budgetMs: o.budgetMs, minSamples: Math.min(o.minSamples ?? 20, o.samples) }, barrier: n },
      ...others('workload', loads),
    ],
    o.abort,
  );
  const s = sd[0].result as ShootdownSenderResult;

  m.reset();
  // As a stress run does: at most as many CPU threads execute as the host has cores (machine/cores.ts).
  armCores(m.i32, coreTokens(n, o.hostCores ?? hostCores));
  m.pt.createSpace(0);
  const touch = { spaces: [0], ranges: [{ start: 0, pages }], mix: { load: 2, store: 1, fetch: 0 } };
  const mt = await pool.run(
    [
      { role: 'munmapTouch', args: { arch, asid: 0, start: 0, pages, ops: o.ops, budgetMs: o.budgetMs, minOps: Math.min(o.minOps ?? 10, o.ops), warmup: Math.min(20, o.ops) }, barrier: n },
      ...others('workload', touch),
    ],
    o.abort,
  );
  const u = mt[0].result as MunmapTouchResult;
  const v = m.violations().total;
  if (v > 0) throw new Error(`${arch} on ${hw} with ${n} CPUs: ${v} violations in the munmap + touch run`);
  const sumMs = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / 1e6;
  const remote = n - 1;
  return {
    cpus: n,
    flavour,
    hw,
    latency: summarise(s.latencies),
    shootdownsPerSecond: s.latencies.length / (s.elapsedMs / 1000),
    munmap: summarise(u.munmap),
    munmapOpsPerSecond: u.munmap.length / (sumMs(u.munmap) / 1000),
    madvise: summarise(u.madvise),
    madviseOpsPerSecond: u.madvise.length / (sumMs(u.madvise) / 1000),
    modelledCycles: flavour === 'ipi' ? remote * (c.ipiSend + c.ipiReceive) : remote > 0 ? c.broadcast : 0,
    oversubscribed: n > hostCores,
  };
}

/**
 * The plot of `bench shootdown --plot`: latency (p50 solid, p99 dashed, one
 * colour per flavour) and throughput against the CPU count.
 */
export function shootdownSvg(r: ShootdownBenchResult): string {
  const flavours = [...new Set(r.points.map((p) => p.flavour))];
  const line = (fl: ShootdownFlavour, what: string, f: (p: ShootdownPoint) => number, style: Partial<LineSeries> = {}): LineSeries => ({
    name: `${fl} ${what}`,
    points: r.points.filter((p) => p.flavour === fl).map((p) => [p.cpus, f(p)] as [number, number]),
    ...style,
  });
  const latency = flavours.flatMap((fl) => [line(fl, 'p50', (p) => p.latency.p50Ns, { group: fl }), line(fl, 'p99', (p) => p.latency.p99Ns, { group: fl, dashed: true })]);
  const throughput = [...flavours.map((fl) => line(fl, 'shootdowns/s', (p) => p.shootdownsPerSecond)), ...flavours.map((fl) => line(fl, 'munmap+touch/s', (p) => p.munmapOpsPerSecond))];
  return lineChartSvg(
    `Shootdown latency and throughput against CPU count (${r.hostCores} host cores)`,
    'simulated CPUs',
    [
      { title: 'one shootdown to every CPU: p50 and p99', yLabel: 'latency', yLog: true, yNs: true, series: latency },
      { title: 'throughput', yLabel: 'operations per second', yLog: true, series: throughput },
    ],
    { xLog2: true, note: `Past ${r.hostCores} simulated CPUs the CPU threads share the host's ${r.hostCores} cores, taking turns through the host-core gate.` },
  );
}
