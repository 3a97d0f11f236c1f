import { policyNames } from '../../kernel/index.js';
import { resolveArchName } from '../alias-note.js';
import { formatCount, formatNs, toCsv } from '../../harness/bench/output.js';
import { type ShootdownFlavour, benchShootdown, shootdownSvg } from '../../harness/bench/shootdown.js';
import { UsageError } from '../errors.js';
import { unknownNameMessage } from '../../harness/suggest.js';
import { renderTable } from '../table.js';
import { createStepProgress } from '../progress.js';
import { type BenchOutputOptions, benchInterrupt, checkOutputs, emit } from './bench-common.js';
import { type CliContext, RUN_FOR_REAL, commandPool, inputsChecked } from '../context.js';

export interface BenchShootdownOptions extends BenchOutputOptions {
  cpus?: number[];
  flavour?: string;
  samples?: number;
  ops?: number;
  budget?: number;
  arch?: string;
}

const FLAVOURS: ShootdownFlavour[] = ['ipi', 'broadcast'];

/** `smpsim bench shootdown`: shootdown latency and munmap throughput against CPU count. */
export async function benchShootdownCommand(o: BenchShootdownOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  const { costs, plot } = checkOutputs(o);
  const flavours = (o.flavour ?? 'ipi,broadcast').split(',').map((s) => s.trim()).filter(Boolean);
  for (const f of flavours) if (!FLAVOURS.includes(f as ShootdownFlavour)) throw new UsageError(unknownNameMessage('flush flavour', f, FLAVOURS));
  if (!flavours.length) throw new UsageError('--flavour needs ipi, broadcast or both');
  const arch = resolveArchName(o.arch ?? 'linux-6');
  if (!policyNames().includes(arch)) throw new UsageError(unknownNameMessage('architecture policy', arch, policyNames()));
  if (inputsChecked(ctx)) return 0;
  const { pool, release } = commandPool(ctx);
  const cpus = o.cpus ?? [1, 2, 4, 8, 16];
  const flavourSet = [...new Set(flavours)] as ShootdownFlavour[];
  const progress = createStepProgress('bench shootdown', cpus.length * flavourSet.length, 'points');
  const interrupt = benchInterrupt(progress);
  let r;
  try {
    r = await benchShootdown(pool, {
      cpus,
      flavours: flavourSet,
      samples: o.samples ?? 2000,
      ops: o.ops ?? 400,
      budgetMs: o.budget ?? 1000,
      arch,
      costs,
      onProgress: (t) => progress.step(t),
      shouldStop: interrupt.shouldStop,
      abort: interrupt.abort,
    });
  } finally {
    progress.stop();
    interrupt.dispose();
    await release();
  }
  const rows = r.points.map((p) => [
    String(p.cpus),
    p.flavour,
    formatNs(p.latency.p50Ns),
    formatNs(p.latency.p99Ns),
    formatNs(p.latency.p999Ns),
    formatNs(p.latency.maxNs),
    formatCount(p.shootdownsPerSecond),
    formatCount(p.munmapOpsPerSecond),
    formatNs(p.madvise.p50Ns),
    formatCount(p.modelledCycles),
    p.oversubscribed ? 'yes' : '',
  ]);
  const table = [
    `One-page shootdown to every CPU of the mm (the others running TLB-hit loads), then munmap + mmap + touch and`,
    `madvise(DONTNEED) + touch of ${r.pages} pages under ${r.arch} with the other CPUs touching them (ipi: x86, broadcast: arm64)`,
    '',
    renderTable(
      [
        { header: 'CPUs', right: true },
        { header: 'flavour' },
        { header: 'p50', right: true },
        { header: 'p99', right: true },
        { header: 'p99.9', right: true },
        { header: 'max', right: true },
        { header: 'shootdowns/s', right: true },
        { header: 'munmap+touch/s', right: true },
        { header: 'madvise+touch p50', right: true },
        { header: 'modelled cycles', right: true },
        { header: 'shared cores' },
      ],
      rows,
    ),
    '',
    `host: ${r.hostCores} cores (os.availableParallelism()); past ${r.hostCores} simulated CPUs the CPU threads share cores, taking turns through the host-core gate (docs/architecture.md); a latency then includes the hand-offs.`,
  ].join('\n');
  const csv = toCsv(
    ['cpus', 'flavour', 'hw', 'samples', 'p50_ns', 'p90_ns', 'p99_ns', 'p999_ns', 'max_ns', 'shootdowns_per_s', 'munmap_touch_per_s', 'munmap_touch_p50_ns', 'madvise_touch_per_s', 'madvise_touch_p50_ns', 'madvise_touch_p99_ns', 'modelled_cycles', 'host_cores', 'oversubscribed'],
    r.points.map((p) => [p.cpus, p.flavour, p.hw, p.latency.count, p.latency.p50Ns, p.latency.p90Ns, p.latency.p99Ns, p.latency.p999Ns, p.latency.maxNs, p.shootdownsPerSecond, p.munmapOpsPerSecond, p.munmap.p50Ns, p.madviseOpsPerSecond, p.madvise.p50Ns, p.madvise.p99Ns, p.modelledCycles, r.hostCores, p.oversubscribed]),
  );
  const partial = r.interrupted ? { done: `${r.points.length} of ${cpus.length * flavourSet.length} points`, empty: r.points.length === 0 } : undefined;
  emit(o, plot, { json: { ...r, costs }, csv, table, svg: () => shootdownSvg(r), partial }, ctx);
  return r.interrupted ? interrupt.exitCode : 0;
}
