import { createRequire } from 'node:module';
import type * as CsvSync from 'csv-stringify/sync';
import type { CombinationReport, RunReport } from './report.js';

/**
 * A run report as CSV (`smpsim run --csv`): a header row, then one row per
 * combination, in run order. RFC 4180: CRLF line ends, a field with a
 * comma, a double quote or a line break is double-quoted and its quotes
 * doubled. An empty field is a null (no expectation, no violation, a rate
 * over no time); booleans are `true`/`false`. docs/json-report.md has what
 * each field means: every column is a field of the JSON report.
 */

/** Column name, and its value for one combination of a report. */
const COLUMNS: [string, (c: CombinationReport, r: RunReport) => unknown][] = [
  ['scenario', (_, r) => r.scenario],
  ['arch', (c) => c.archLabel],
  ['hw', (c) => c.hw],
  ['hypothetical', (c) => c.hypothetical],
  ['cpus', (_, r) => r.cpus],
  ['mode', (_, r) => r.mode],
  ['seed', (_, r) => r.seed],
  ['depth', (_, r) => r.depth],
  ['shard', (_, r) => (r.shard ? `${r.shard.k}/${r.shard.n}` : null)],
  ['iterations', (c) => c.iterations],
  ['expected', (c) => c.expected],
  ['outcome', (c) => c.outcome],
  ['as_expected', (c) => c.asExpected],
  // The combination does not count against the run (as expected, or no expectation): the row's part of the report's ok.
  ['ok', (c) => c.asExpected !== false],
  ['violations', (c) => c.violations],
  ['violating_iterations', (c) => c.violatingIterations],
  ['first_violating_iteration', (c) => c.firstViolatingIteration],
  ['first_violation_kind', (c) => c.firstViolation?.kind ?? null],
  ['kinds', (c) => c.kinds.map((k) => k.kind).join(' ')],
  ['time_to_first_ms', (c) => c.timeToFirstMs],
  ['wall_ms', (c) => c.wallMs],
  ['iterations_per_second', (c) => c.iterationsPerSecond],
  ['ipis_sent', (c) => c.machine.ipisSent],
  ['ipis_received', (c) => c.machine.ipisReceived],
  ['broadcasts', (c) => c.machine.broadcasts],
  ['sync_ipis', (c) => c.machine.syncIpis],
  ['flushes', (c) => c.kernel.flushes.total],
  ['frees_data', (c) => c.kernel.frees.data],
  ['frees_tables', (c) => c.kernel.frees.tables],
  ['replay', (c) => c.replay],
  ['interrupted', (_, r) => r.interrupted],
];

export const CSV_COLUMNS = COLUMNS.map(([name]) => name);

/** A number as CSV: integers whole, others to 6 significant digits; not finite (a rate over no time) as empty. */
function cell(v: unknown): unknown {
  if (typeof v !== 'number') return v;
  if (!Number.isFinite(v)) return null;
  return Number.isInteger(v) ? v : Number(v.toPrecision(6));
}

/** The report as CSV text (see the header). */
export function reportCsv(report: RunReport): string {
  const rows = report.combinations.map((c) => COLUMNS.map(([, get]) => cell(get(c, report))));
  // Loaded here, on the first CSV asked for: 11 ms of every process start otherwise.
  const { stringify } = createRequire(import.meta.url)('csv-stringify/sync') as typeof CsvSync;
  return stringify([CSV_COLUMNS, ...rows], { record_delimiter: 'windows', quoted_match: /[\r\n]/, cast: { boolean: (b) => String(b) } });
}
