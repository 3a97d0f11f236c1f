import { MergeError } from '../merge.js';
import { type Provenance, provenance } from '../provenance.js';
import { type LatencySummary, mergeSummaries } from './histogram.js';
import { type IpiReport, type ShootdownReport, ipiReportSchema, shootdownReportSchema } from './report-schema.js';

/**
 * `smpsim merge` of `smpsim bench ipi` or `bench shootdown` JSON reports
 * (from several runs, or several hosts of one kind): every latency's
 * HdrHistogram (`hdr`) is added up and its percentiles read from the sum,
 * which averaging percentiles could not give; counts add up; a rate is the
 * pooled one, all the events over all the time they took (time = count /
 * rate per report). Refused (one line): reports of different benches,
 * versions, host core counts (past the core count latencies measure the
 * host's scheduler), cost models, or, for shootdown, policies, pages or
 * points. `bench policies` reports hold no histogram and do not merge.
 * The merged report's `provenance` is the merge's own; each part's is kept
 * in `merged.sources`.
 */

export type MergeableBenchReport = IpiReport | ShootdownReport;

/** A parsed JSON document as a bench report this merge takes, or a MergeError naming the file. */
export function asBenchReport(name: string, x: { bench?: unknown }): { name: string; report: MergeableBenchReport } {
  if (x.bench === 'policies') throw new MergeError(`${name}: a bench policies report holds no histograms to merge (merge takes run reports and bench ipi or shootdown reports)`);
  const schema = x.bench === 'ipi' ? ipiReportSchema : x.bench === 'shootdown' ? shootdownReportSchema : null;
  if (!schema) throw new MergeError(`${name}: bench '${String(x.bench)}' is not one merge takes (ipi, shootdown)`);
  const r = schema.safeParse(x);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new MergeError(`${name}: not an smpsim bench ${String(x.bench)} report of this version (${issue.path.join('.')}${issue.path.length ? ': ' : ''}${issue.message})`);
  }
  return { name, report: r.data };
}

/** Events over all the time they took: each report's time is its count over its rate. */
function pooledRate(parts: readonly { count: number; rate: number | null }[]): number {
  const count = parts.reduce((t, p) => t + p.count, 0);
  const seconds = parts.reduce((t, p) => t + (p.rate ? p.count / p.rate : 0), 0);
  return count / seconds;
}

const pointKey = (p: { cpus: number; flavour: string }): string => `${p.cpus} CPUs ${p.flavour}`;

function sameAll(all: readonly { name: string; report: MergeableBenchReport }[], checks: [string, (r: MergeableBenchReport) => unknown][]): void {
  const [a] = all;
  for (const b of all.slice(1)) {
    for (const [what, get] of checks) {
      const [x, y] = [JSON.stringify(get(a.report)), JSON.stringify(get(b.report))];
      if (x !== y) throw new MergeError(`${b.name}: ${what} ${y}, but ${a.name} has ${x}: only reports of one benchmark merge`);
    }
  }
}

function mergeIpi(all: readonly IpiReport[]): IpiReport {
  const ipi = mergeSummaries(all.map((r) => r.ipi));
  const raw = mergeSummaries(all.map((r) => r.raw));
  const a = all[0];
  return {
    ...a,
    samples: all.reduce((t, r) => t + r.samples, 0),
    rounds: all.reduce((t, r) => t + r.rounds, 0),
    ipi,
    raw,
    ratioP50: ipi.p50Ns / raw.p50Ns,
    ratioP99: ipi.p99Ns / raw.p99Ns,
    interrupted: all.some((r) => r.interrupted),
  };
}

function mergeShootdown(all: readonly ShootdownReport[]): ShootdownReport {
  const points = all[0].points.map((p, i) => {
    const parts = all.map((r) => r.points[i]);
    const lat = (f: (x: typeof p) => LatencySummary): LatencySummary => mergeSummaries(parts.map(f));
    const rate = (f: (x: typeof p) => LatencySummary, g: (x: typeof p) => number | null): number => pooledRate(parts.map((x) => ({ count: f(x).count, rate: g(x) })));
    return {
      ...p,
      latency: lat((x) => x.latency),
      shootdownsPerSecond: rate((x) => x.latency, (x) => x.shootdownsPerSecond),
      munmap: lat((x) => x.munmap),
      munmapOpsPerSecond: rate((x) => x.munmap, (x) => x.munmapOpsPerSecond),
      madvise: lat((x) => x.madvise),
      madviseOpsPerSecond: rate((x) => x.madvise, (x) => x.madviseOpsPerSecond),
    };
  });
  return { ...all[0], points, interrupted: all.some((r) => r.interrupted) };
}

/** Merge bench reports of one benchmark (see the header); `merge` is the merge's own provenance. */
export function mergeBenchReports(all: readonly { name: string; report: MergeableBenchReport }[], merge: Provenance = provenance()): MergeableBenchReport {
  sameAll(all, [
    ['bench', (r) => r.bench],
    ['version', (r) => r.version],
    ['host cores', (r) => r.hostCores],
    ['cost model', (r) => r.costs],
    ['policy', (r) => (r.bench === 'shootdown' ? r.arch : null)],
    ['pages', (r) => (r.bench === 'shootdown' ? r.pages : null)],
    ['points', (r) => (r.bench === 'shootdown' ? r.points.map(pointKey) : null)],
  ]);
  const reports = all.map((r) => r.report);
  let merged: MergeableBenchReport;
  try {
    merged = reports[0].bench === 'ipi' ? mergeIpi(reports as IpiReport[]) : mergeShootdown(reports as ShootdownReport[]);
  } catch (e) {
    throw new MergeError(`a latency histogram (hdr) does not decode: ${(e as Error).message.split('\n')[0]}`);
  }
  // A merged report merges again: its sources are flattened into the new list.
  const sources = all.flatMap(({ name, report }) => report.merged?.sources ?? [{ file: name, provenance: report.provenance }]);
  return { ...merged, provenance: merge, merged: { reports: sources.length, sources } };
}
