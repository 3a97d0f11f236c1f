import { z } from 'zod';
import { provenanceSchema } from '../report-schema.js';

/**
 * The JSON reports of `smpsim bench ipi | shootdown | policies --json`, as
 * zod schemas: `smpsim merge` reads bench reports through them, and
 * docs/bench-report.md documents them table by table, in this field order
 * (test/docs/bench-report.test.ts keeps the two in step). Objects are not
 * strict: a reader ignores fields it does not know.
 */

const num = z.number();
const int = z.number().int();
/** A rate or a ratio: JSON writes a division by zero (Infinity, NaN) as null. */
const real = z.number().nullable();

/** Where the report came from: the same schema as a run report's (src/harness/provenance.ts). */
export { provenanceSchema };

/** A latency summary (src/harness/bench/histogram.ts): ns, HdrHistogram percentiles. */
export const latencySchema = z.object({
  count: int.min(0),
  p50Ns: num,
  p90Ns: num,
  p99Ns: num,
  p999Ns: num,
  maxNs: num,
  meanNs: num,
  hdr: z.string(),
});

/** The cost model of the modelled cycles (src/harness/bench/cost.ts), cycles per event. */
export const costsSchema = z.object({
  ipiSend: num,
  ipiReceive: num,
  broadcast: num,
  invalidateEntry: num,
  flushTlb: num,
  walkLevel: num,
});

/** Added by `smpsim merge`: how many reports were merged, and where each came from. */
export const benchMergeInfoSchema = z.object({
  reports: int.min(2),
  sources: z.array(z.object({ file: z.string(), provenance: provenanceSchema })),
});

/** The fields every bench report starts with. */
const head = {
  tool: z.literal('smpsim'),
  version: z.string(),
  provenance: provenanceSchema,
};

export const ipiReportSchema = z.object({
  ...head,
  bench: z.literal('ipi'),
  hostCores: int.min(1),
  samples: int.min(0),
  rounds: int.min(0),
  ipi: latencySchema,
  raw: latencySchema,
  ratioP50: real,
  ratioP99: real,
  modelledCycles: num,
  interrupted: z.boolean(),
  costs: costsSchema,
  merged: benchMergeInfoSchema.optional(),
});

export const shootdownPointSchema = z.object({
  cpus: int.min(1),
  flavour: z.enum(['ipi', 'broadcast']),
  hw: z.string(),
  latency: latencySchema,
  shootdownsPerSecond: real,
  munmapOpsPerSecond: real,
  munmap: latencySchema,
  madvise: latencySchema,
  madviseOpsPerSecond: real,
  modelledCycles: num,
  oversubscribed: z.boolean(),
});

export const shootdownReportSchema = z.object({
  ...head,
  bench: z.literal('shootdown'),
  hostCores: int.min(1),
  arch: z.string(),
  pages: int.min(1),
  points: z.array(shootdownPointSchema),
  interrupted: z.boolean(),
  costs: costsSchema,
  merged: benchMergeInfoSchema.optional(),
});

const flushesSchema = z.object({ page: num, range: num, mm: num, all: num, itlb: num, walk: num, total: num });

export const policyRowSchema = z.object({
  policy: z.string(),
  arch: z.string(),
  archOptions: z.record(z.string(), z.union([z.string(), z.boolean()])),
  iterations: int.min(0),
  ops: num,
  ipisSent: num,
  ipisReceived: num,
  broadcasts: num,
  flushes: flushesSchema,
  dropped: z.object({ dtlb: num, itlb: num, walk: num, total: num }),
  refillsAfterDrop: num,
  itlbRefillsAfterDrop: num,
  dtlbMisses: num,
  itlbMisses: num,
  walks: num,
  frees: z.object({ data: num, tables: num, immediate: num, delayed: num, delayMean: num, delayMax: num }),
  hostMsPerOp: num,
  modelledCycles: num,
  violations: int.min(0),
});

export const policiesReportSchema = z.object({
  ...head,
  bench: z.literal('policies'),
  scenario: z.string(),
  hw: z.string(),
  cpus: int.min(1),
  seed: int,
  iterations: int.min(1),
  costs: costsSchema,
  rows: z.array(policyRowSchema),
  answer: z.string(),
  interrupted: z.boolean(),
});

export type IpiReport = z.infer<typeof ipiReportSchema>;
export type ShootdownReport = z.infer<typeof shootdownReportSchema>;
export type PoliciesReport = z.infer<typeof policiesReportSchema>;
export type BenchReport = IpiReport | ShootdownReport | PoliciesReport;

/** The schema of a bench's report, by its `bench` name. */
export const BENCH_SCHEMAS = { ipi: ipiReportSchema, shootdown: shootdownReportSchema, policies: policiesReportSchema } as const;

/** `x` as a bench report, or the first thing wrong with it ("points.2.latency.p50Ns: ..."). */
export function parseBenchReport(x: unknown): { report: BenchReport } | { error: string } {
  const bench = typeof x === 'object' && x !== null ? (x as { bench?: unknown }).bench : undefined;
  const schema = typeof bench === 'string' && Object.hasOwn(BENCH_SCHEMAS, bench) ? BENCH_SCHEMAS[bench as keyof typeof BENCH_SCHEMAS] : null;
  if (!schema) return { error: `bench: '${String(bench)}' is not a bench (ipi, shootdown, policies)` };
  const r = schema.safeParse(x);
  if (r.success) return { report: r.data };
  const issue = r.error.issues[0];
  return { error: `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}` };
}
