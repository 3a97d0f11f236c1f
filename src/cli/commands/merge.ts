import { readFileSync } from 'node:fs';
import { type MergeableBenchReport, asBenchReport, mergeBenchReports } from '../../harness/bench/merge.js';
import { LATENCY_HEADERS, latencyCells } from '../../harness/bench/output.js';
import type { LatencySummary } from '../../harness/bench/histogram.js';
import { asRunReport, mergeReports } from '../../harness/merge.js';
import { ExitCode, UsageError } from '../errors.js';
import { exitCodeFor } from '../render.js';
import { type CliContext, RUN_FOR_REAL } from '../context.js';
import { provenance } from '../../harness/provenance.js';
import { renderTable } from '../table.js';
import { writeErr, writeOut } from '../io.js';
import { checkOutput, printReport, writeJsonFile } from './run.js';

/** The options of `smpsim merge`, as commander parses them. */
export interface MergeCommandOptions {
  json?: boolean;
  report?: string;
  requireComplete?: boolean;
}

/** A report file as JSON; unreadable or not JSON is one line naming the file. */
function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${file}: not JSON (${(e as Error).message.split('\n')[0]})`);
  }
}

const isBench = (x: unknown): x is { bench: unknown } => typeof x === 'object' && x !== null && 'bench' in x;

/**
 * `smpsim merge <reports...>`: the shards of a campaign as one run report
 * (src/harness/merge.ts), or bench reports with their histograms added up
 * (src/harness/bench/merge.ts). Returns the exit code: as `smpsim run`'s on
 * the merged report (0 clean / as expected, 1 violations / not as
 * expected), 2 for reports that do not belong together.
 */
export async function mergeCommand(files: string[], o: MergeCommandOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  const out = o.report === undefined ? undefined : checkOutput('--report', o.report, 'the merged report');
  const docs = files.map((name) => ({ name, json: readJson(name) }));
  const bench = docs.filter((d) => isBench(d.json));
  if (bench.length > 0 && bench.length < docs.length) {
    const run = docs.find((d) => !isBench(d.json))!;
    throw new UsageError(`${bench[0].name} is a bench report and ${run.name} is not: merge takes reports of one kind`);
  }
  if (bench.length) return mergeBench(docs.map((d) => asBenchReport(d.name, d.json as { bench: unknown })), o, out, ctx);

  const { report, notes } = mergeReports(
    docs.map((d) => asRunReport(d.name, d.json)),
    provenance(ctx.argv),
  );
  const m = report.merged!;
  if (o.requireComplete && m.incomplete) throw new UsageError(`shard${m.missing.length > 1 ? 's' : ''} ${m.missing.join(', ')} of ${m.n} missing (--require-complete)`);
  for (const note of notes) writeErr(`smpsim: ${note}\n`);
  const matrix = report.combinations.length > 1;
  printReport(report, report.scenarioFile?.path ?? report.scenario, o.json, matrix);
  if (out && !writeJsonFile('--report', out, report)) return ExitCode.INTERNAL;
  // A shard's interruption is said above; the merge itself ran to its end.
  return exitCodeFor({ ...report, interrupted: false });
}

function mergeBench(all: { name: string; report: MergeableBenchReport }[], o: MergeCommandOptions, out: string | undefined, ctx: CliContext): number {
  const r = mergeBenchReports(all, provenance(ctx.argv));
  if (o.json) writeOut(`${JSON.stringify(r, null, 2)}\n`);
  else {
    const row = (name: string, s: LatencySummary): string[] => [name, ...latencyCells(s)];
    const rows = r.bench === 'ipi' ? [row('IPI round trip', r.ipi), row('raw ping-pong', r.raw)] : r.points.flatMap((p) => [row(`${p.cpus} CPUs ${p.flavour}: shootdown`, p.latency), row(`${p.cpus} CPUs ${p.flavour}: munmap + touch`, p.munmap), row(`${p.cpus} CPUs ${p.flavour}: madvise + touch`, p.madvise)]);
    const table = renderTable([{ header: 'series' }, ...LATENCY_HEADERS.map((header) => ({ header, right: true }))], rows);
    writeOut(`bench ${r.bench}: ${all.length} reports merged (histograms added; host: ${r.hostCores} cores)\n\n${table}\n`);
  }
  return out && !writeJsonFile('--report', out, r) ? ExitCode.INTERNAL : ExitCode.OK;
}
