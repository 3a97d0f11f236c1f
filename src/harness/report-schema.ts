import { z } from 'zod';
import { emptyStats } from '../kernel/index.js';
import { type RunReport, emptyTotals } from './report.js';

/**
 * The shape of a run report read back from JSON (`smpsim merge`): a file
 * that is not one is refused with one line naming the first field that is
 * wrong, before anything is added up. The fields are those of
 * docs/json-report.md (a test compares the two); every field is required
 * but `merged` and `provenance` (and `merged.parts`, read as [] when absent),
 * which reports of earlier versions lack, and fields this version does not
 * know are dropped.
 */

/** The counters of a template object (all numbers, maybe nested): the same keys, each a number. */
function counters(template: object): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [k, v] of Object.entries(template)) shape[k] = typeof v === 'number' ? z.number() : counters(v as object);
  return z.object(shape);
}

const int = z.number().int();
const index = int.min(0);
/** A number JSON could not hold (a rate over no time) was written as null. */
const real = z.number().nullable();
const onCpu = z.object({ op: z.string(), cpu: int }).nullable();

export const violationSchema = z.object({
  kind: z.string(),
  cpu: int,
  vpn: int,
  address: z.string(),
  frame: int,
  frameKind: z.string(),
  genAtFill: int,
  genNow: int,
  ownerBefore: int,
  ownerNow: int,
  step: int,
  iteration: index,
  seed: int,
  cpuOp: z.string(),
  level: int.nullable(),
  freedBy: onCpu,
  freerNow: z.string().nullable(),
  call: onCpu,
});

export const kindSchema = z.object({
  kind: z.string(),
  iterations: index,
  firstIteration: index,
  firstViolation: violationSchema,
  replay: z.string().nullable(),
});

export const combinationSchema = z.object({
  arch: z.string(),
  archOptions: z.record(z.string(), z.unknown()),
  archLabel: z.string(),
  hw: z.string(),
  hypothetical: z.boolean(),
  expected: z.enum(['caught', 'clean']).nullable(),
  outcome: z.enum(['caught', 'clean']),
  asExpected: z.boolean().nullable(),
  iterations: index,
  violations: index,
  violatingIterations: index,
  firstViolatingIteration: index.nullable(),
  timeToFirstMs: real,
  firstViolation: violationSchema.nullable(),
  replay: z.string().nullable(),
  kinds: z.array(kindSchema),
  wallMs: z.number(),
  iterationsPerSecond: real,
  machine: counters(emptyTotals()),
  kernel: counters(emptyStats()),
});

const shard = z.object({ k: int.min(1), n: int.min(1) }).refine((s) => s.k <= s.n, { message: 'k is larger than n' });

export const provenanceSchema = z.object({
  smpsim: z.string(),
  node: z.string(),
  hostCores: int.min(0),
  cpuModel: z.string(),
  platform: z.string(),
  date: z.string(),
  argv: z.array(z.string()),
});

/** Merged reports of versions before provenance have no parts: read as none. */
export const mergeInfoSchema = z.object({
  n: int.min(1),
  shards: z.array(int.min(1)),
  missing: z.array(int.min(1)),
  incomplete: z.boolean(),
  parts: z.array(z.object({ shards: z.array(int.min(1)), provenance: provenanceSchema.nullable() })).default([]),
});

export const runReportSchema = z.object({
  tool: z.literal('smpsim'),
  version: z.string(),
  scenario: z.string(),
  title: z.string(),
  mode: z.enum(['stress', 'pct']),
  seed: index,
  cpus: int.min(1),
  depth: int.min(1).nullable(),
  iterationsAsked: int.min(1).nullable(),
  durationMs: z.number().nullable(),
  scenarioFile: z.object({ path: z.string(), sha256: z.string() }).nullable(),
  shard: shard.nullable(),
  combinations: z.array(combinationSchema),
  ok: z.boolean(),
  interrupted: z.boolean(),
  merged: mergeInfoSchema.optional(),
  // Optional: reports of versions before it have none, and still merge.
  provenance: provenanceSchema.optional(),
});

/** `x` as a run report, or the first thing wrong with it ("combinations.2.kinds: ..."). */
export function parseRunReport(x: unknown): { report: RunReport } | { error: string } {
  const r = runReportSchema.safeParse(x);
  if (r.success) return { report: r.data as unknown as RunReport };
  const issue = r.error.issues[0];
  return { error: `${issue.path.length ? `${issue.path.join('.')}: ` : ''}${issue.message}` };
}
