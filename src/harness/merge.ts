import { emptyStats, addStats } from '../kernel/index.js';
import { type CombinationReport, type KindReport, type MergeInfo, type RunReport, addTotals, emptyTotals } from './report.js';
import { parseRunReport } from './report-schema.js';
import { type Provenance, provenance } from './provenance.js';

/**
 * `smpsim merge`: the run reports of a campaign's shards (src/harness/shard.ts)
 * as one report, as if one run had made it.
 *
 * Per combination: iterations, violations, violating iterations, the
 * machine's and the kernel's counts are sums (the kernel's longest free
 * delay a maximum); the first violation, its iteration, its replay token
 * and its time to first come from the shard that holds the earliest
 * violating iteration; each violation kind's count is a sum and its first
 * occurrence the earliest over the shards. Iterations are disjoint across
 * shards and keep their unsharded indices and seeds, so in pct mode (where an
 * iteration is a function of its seed) the merge of all n shards equals the
 * unsharded report but for host time: `wallMs` is the shards' sum (machine
 * time spent), `iterationsPerSecond` follows from it, and `timeToFirstMs`
 * is measured on the shard that found the violation.
 *
 * Refused (MergeError, one line): a file that is no run report; reports of
 * different versions, scenarios (by name, and by content for files),
 * modes, seeds, CPU counts, depths, iteration counts, durations, shard
 * counts or combinations; a shard given twice. Merged reports merge again
 * (a campaign merged as its shards finish). Missing shards are allowed: the
 * report says which (`merged.missing`, `merged.incomplete`) and the notes
 * name them.
 *
 * The merged report's `provenance` is the merge's own; `merged.parts` keeps
 * each shard report's (null for one made before provenance), a merged
 * report's parts standing in for it.
 */
export class MergeError extends Error {
  readonly usage = true;
  override readonly name = 'MergeError';
}

export interface NamedReport {
  /** How messages name it (the file). */
  name: string;
  report: RunReport;
}

/** A merged report, and what a person should be told about it (one line each). */
export interface MergeResult {
  report: RunReport;
  notes: string[];
}

/** A parsed JSON document as a run report, or a MergeError naming the file and the first wrong field. */
export function asRunReport(name: string, x: unknown): NamedReport {
  const r = parseRunReport(x);
  if ('error' in r) throw new MergeError(`${name}: not an smpsim run report (${r.error})`);
  return { name, report: r.report };
}

/** The shards a report holds, of how many: one for a shard, its list for a merged report, 1 of 1 for a whole run. */
function coverage(r: RunReport): { n: number; shards: number[] } {
  if (r.merged) return { n: r.merged.n, shards: r.merged.shards };
  if (r.shard) return { n: r.shard.n, shards: [r.shard.k] };
  return { n: 1, shards: [1] };
}

/** What every report of one campaign has in common. */
const SAME: [string, (r: RunReport) => unknown][] = [
  ['version', (r) => r.version],
  ['scenario', (r) => r.scenario],
  ['scenario file content (sha256)', (r) => r.scenarioFile?.sha256 ?? 'none'],
  ['mode', (r) => r.mode],
  ['seed', (r) => r.seed],
  ['CPU count', (r) => r.cpus],
  ['pct depth', (r) => r.depth ?? 'none'],
  ['iterations per combination', (r) => r.iterationsAsked ?? 'none'],
  ['duration (ms)', (r) => r.durationMs ?? 'none'],
  ['shard count', (r) => coverage(r).n],
];

const comboKey = (c: CombinationReport): string =>
  JSON.stringify([c.arch, Object.entries(c.archOptions).sort(([a], [b]) => a.localeCompare(b)), c.hw, c.expected]);
const comboName = (c: CombinationReport): string => `${c.archLabel} / ${c.hw}`;

/** Check that the reports are shards of one campaign, none given twice; returns n and the shards present. */
function checkCampaign(all: readonly NamedReport[]): { n: number; present: number[] } {
  if (all.length === 0) throw new MergeError('no reports to merge');
  const [a] = all;
  for (const b of all.slice(1)) {
    for (const [what, get] of SAME) {
      if (get(b.report) !== get(a.report)) throw new MergeError(`${b.name}: ${what} ${String(get(b.report))}, but ${a.name} has ${String(get(a.report))}: only shards of one campaign merge`);
    }
  }
  const n = coverage(a.report).n;
  const owner = new Map<number, string>();
  for (const { name, report } of all) {
    for (const k of coverage(report).shards) {
      if (k > n) throw new MergeError(`${name}: names shard ${k} of ${n}`);
      const before = owner.get(k);
      if (before !== undefined) throw new MergeError(`shard ${k}/${n} is in both ${before} and ${name}: shards overlap`);
      owner.set(k, name);
    }
  }
  return { n, present: [...owner.keys()].sort((x, y) => x - y) };
}

/**
 * The combinations, in run order: every complete report runs the same ones;
 * an interrupted one may stop short of the end of that list.
 */
function checkCombinations(all: readonly NamedReport[]): CombinationReport[] {
  const complete = all.filter((r) => !r.report.interrupted);
  const ref = (complete.length ? complete : all).reduce((x, y) => (y.report.combinations.length > x.report.combinations.length ? y : x));
  for (const r of all) {
    const mine = r.report.combinations;
    const theirs = ref.report.combinations;
    const i = mine.findIndex((c, j) => j >= theirs.length || comboKey(c) !== comboKey(theirs[j]));
    if (i >= 0) throw new MergeError(`${r.name}: its combination ${i + 1} is ${comboName(mine[i])}, where ${ref.name} has ${theirs[i] ? comboName(theirs[i]) : 'none'}: only shards of one campaign merge`);
    if (!r.report.interrupted && mine.length !== theirs.length) throw new MergeError(`${r.name}: ${mine.length} combinations, but ${ref.name} has ${theirs.length}: only shards of one campaign merge`);
  }
  return ref.report.combinations;
}

/** Each kind once: counts added, the earliest first occurrence kept; ordered as one run would have seen them. */
function mergeKinds(parts: readonly CombinationReport[]): KindReport[] {
  const best = new Map<string, { entry: KindReport; pos: number; iterations: number }>();
  for (const p of parts) {
    p.kinds.forEach((entry, pos) => {
      const b = best.get(entry.kind);
      const iterations = (b?.iterations ?? 0) + entry.iterations;
      if (!b || entry.firstIteration < b.entry.firstIteration) best.set(entry.kind, { entry, pos, iterations });
      else b.iterations = iterations;
    });
  }
  // Two kinds first seen in one iteration come from one shard (an iteration
  // has one owner): its order within the iteration breaks the tie.
  return [...best.values()].sort((x, y) => x.entry.firstIteration - y.entry.firstIteration || x.pos - y.pos).map(({ entry, iterations }) => ({ ...entry, iterations }));
}

/** One combination's shard reports as one. */
function mergeCombination(template: CombinationReport, parts: readonly CombinationReport[]): CombinationReport {
  const sum = (f: (c: CombinationReport) => number): number => parts.reduce((t, c) => t + f(c), 0);
  const first = parts.filter((c) => c.firstViolatingIteration !== null).sort((x, y) => x.firstViolatingIteration! - y.firstViolatingIteration!)[0];
  const iterations = sum((c) => c.iterations);
  const violations = sum((c) => c.violations);
  const wallMs = sum((c) => c.wallMs);
  const outcome = violations > 0 ? 'caught' : 'clean';
  return {
    arch: template.arch,
    archOptions: { ...template.archOptions },
    archLabel: template.archLabel,
    hw: template.hw,
    hypothetical: template.hypothetical,
    expected: template.expected,
    outcome,
    asExpected: template.expected === null ? null : template.expected === outcome,
    iterations,
    violations,
    violatingIterations: sum((c) => c.violatingIterations),
    firstViolatingIteration: first?.firstViolatingIteration ?? null,
    timeToFirstMs: first?.timeToFirstMs ?? null,
    firstViolation: first?.firstViolation ?? null,
    replay: first?.replay ?? null,
    kinds: mergeKinds(parts),
    wallMs,
    iterationsPerSecond: iterations / (wallMs / 1000),
    machine: parts.reduce((t, c) => addTotals(t, c.machine), emptyTotals()),
    kernel: parts.reduce((t, c) => addStats(t, c.kernel), emptyStats()),
  };
}

/** What a report is made of: its own shards and provenance, or, merged, its parts. */
function parts(r: RunReport): MergeInfo['parts'] {
  if (r.merged) return r.merged.parts.length ? r.merged.parts : [{ shards: r.merged.shards, provenance: r.provenance ?? null }];
  return [{ shards: coverage(r).shards, provenance: r.provenance ?? null }];
}

/** Merge the reports of one campaign's shards (see the header); `made` is the merge's own provenance. */
export function mergeReports(all: readonly NamedReport[], made: Provenance = provenance()): MergeResult {
  const { n, present } = checkCampaign(all);
  const combos = checkCombinations(all);
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((k) => !present.includes(k));
  const combinations = combos.map((c, i) =>
    mergeCombination(
      c,
      all.flatMap((r) => r.report.combinations[i] ?? []),
    ),
  );
  const a = all[0].report;
  const report: RunReport = {
    tool: 'smpsim',
    version: a.version,
    scenario: a.scenario,
    title: a.title,
    mode: a.mode,
    seed: a.seed,
    cpus: a.cpus,
    depth: a.depth,
    iterationsAsked: a.iterationsAsked,
    durationMs: a.durationMs,
    scenarioFile: a.scenarioFile,
    shard: null,
    combinations,
    ok: combinations.every((c) => c.asExpected !== false),
    interrupted: all.some((r) => r.report.interrupted),
    merged: { n, shards: present, missing, incomplete: missing.length > 0, parts: all.flatMap((r) => parts(r.report)).sort((x, y) => x.shards[0] - y.shards[0]) },
    provenance: made,
  };
  const notes: string[] = [];
  if (missing.length) notes.push(`incomplete: shard${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${n} missing; the counts cover shard${present.length > 1 ? 's' : ''} ${present.join(', ')} only`);
  for (const r of all.filter((x) => x.report.interrupted)) notes.push(`${r.name} (shard ${coverage(r.report).shards.join(', ')} of ${n}) was interrupted: its counts are partial`);
  return { report, notes };
}
