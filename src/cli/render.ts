import type { CombinationReport, RunReport, ViolationReport } from '../harness/report.js';
import { ExitCode } from './errors.js';
import { formatMs } from './numbers.js';
import { renderFields, renderTable } from './table.js';

const n = (x: number): string => x.toLocaleString('en-US');

function comboName(c: CombinationReport): string {
  return `${c.archLabel} / ${c.hw}`;
}

/** 'hypothetical' when the policy's kernel never ran on this hardware, 'real' when it did. */
export function pairing(c: { hypothetical: boolean }): string {
  return c.hypothetical ? 'hypothetical' : 'real';
}

/**
 * The one rule, for one combination as for many, in the text, the JSON
 * report's `ok` and the exit code alike: a combination counts against the
 * run only if it has an expectation and came out otherwise. A combination
 * without expectation (expected null) is reported, never judged.
 */
export function failing(report: RunReport): CombinationReport[] {
  return report.combinations.filter((c) => c.asExpected === false);
}

/** The exit code a finished run maps to: 0 every combination as expected, 1 otherwise (see failing). */
export function exitCodeFor(report: RunReport): number {
  if (report.interrupted) return ExitCode.INTERRUPTED;
  return failing(report).length ? ExitCode.VIOLATIONS : ExitCode.OK;
}

/** Which part of a campaign a report holds: '', ', shard 2/4', ', merged from shards 1, 2 of 4 (incomplete: 3, 4 missing)'. */
export function shardNote(report: RunReport): string {
  if (report.merged) {
    const m = report.merged;
    return `, merged from shard${m.shards.length > 1 ? 's' : ''} ${m.shards.join(', ')} of ${m.n}${m.incomplete ? ` (incomplete: ${m.missing.join(', ')} missing)` : ''}`;
  }
  return report.shard ? `, shard ${report.shard.k}/${report.shard.n}` : '';
}

/** "4 CPUs, seed 1, pct mode, shard 2/4". */
export function runLine(report: RunReport): string {
  return `${report.cpus} CPUs, seed ${report.seed}, ${report.mode} mode${shardNote(report)}`;
}

/** One row per combination. */
export function renderMatrix(report: RunReport): string {
  const cols = [
    { header: 'combination' },
    { header: 'pairing' },
    { header: 'expected' },
    { header: 'outcome' },
    { header: 'as expected' },
    { header: 'iterations', right: true },
    { header: 'violations', right: true },
    { header: 'violating its', right: true },
    { header: 'first at it', right: true },
    { header: 'time to first', right: true },
    { header: 'IPIs', right: true },
    { header: 'flushes', right: true },
  ];
  const rows = report.combinations.map((c) => [
    comboName(c),
    pairing(c),
    c.expected ?? '-',
    c.outcome,
    c.asExpected === null ? '-' : c.asExpected ? 'yes' : 'NO',
    n(c.iterations),
    n(c.violations),
    n(c.violatingIterations),
    c.firstViolatingIteration === null ? '-' : String(c.firstViolatingIteration),
    formatMs(c.timeToFirstMs),
    n(c.machine.ipisSent),
    n(c.kernel.flushes.total),
  ]);
  return renderTable(cols, rows);
}

export function renderVerdict(report: RunReport, matrix = report.combinations.length > 1): string {
  const all = report.combinations;
  const pre = report.interrupted ? 'verdict (interrupted, partial): ' : 'verdict: ';
  if (all.length === 0) return `${pre}nothing ran`;
  if (!matrix) {
    const c = all[0];
    const what = c.outcome === 'caught' ? `caught: ${n(c.violations)} violations in ${n(c.violatingIterations)} of ${n(c.iterations)} iterations` : `clean: no violation in ${n(c.iterations)} iterations`;
    const exp = c.expected === null ? `no expectation, reported only; --expect caught|clean sets one` : c.asExpected ? `as expected` : `expected ${c.expected}`;
    return `${pre}${what} (${exp})`;
  }
  const bad = failing(report);
  const count = (list: CombinationReport[]): string => {
    const caught = list.filter((c) => c.outcome === 'caught').length;
    return `${caught} caught, ${list.length - caught} clean`;
  };
  const open = all.filter((c) => c.expected === null);
  const judged = all.length - open.length;
  const reportOnly = open.length ? `; ${open.length} without expectation, reported only (${count(open)})` : '';
  if (judged === 0) return `${pre}no combination has an expectation: reported only (${count(all)}; --expect caught|clean sets one)`;
  if (bad.length === 0) return `${pre}all ${judged} combinations${open.length ? ' with an expectation' : ''} as expected (${count(all.filter((c) => c.expected !== null))}${reportOnly})`;
  const list = bad.map((c) => `${comboName(c)} (expected ${c.expected}, ${c.outcome})`).join('; ');
  return `${pre}${bad.length} of ${judged} combinations differ from expectation: ${list}${reportOnly}`;
}

const owner = (o: number): string => (o < 0 ? 'none (free)' : `address space ${o}`);

export function renderViolation(v: ViolationReport): string {
  const fields: [string, string][] = [
    ['kind', v.kind],
    ['CPU', v.call ? `${v.cpu}, whose TLB still holds the translation` : `${v.cpu}, doing a ${v.cpuOp}`],
    ['address', `${v.address} (vpn ${v.vpn})`],
    ['frame', `${v.frame} (${v.frameKind})`],
    ['generation', `${v.genAtFill} at fill, ${v.genNow} now`],
    ['owner', v.frameKind === 'free' ? `${owner(v.ownerBefore)} before; the frame is free now (last owner: ${owner(v.ownerNow)})` : `${owner(v.ownerBefore)} before, ${owner(v.ownerNow)} now`],
  ];
  if (v.level !== null) fields.push(['table level', String(v.level)]);
  if (v.call) fields.push(['after', `${v.call.op} on CPU ${v.call.cpu} returned with this translation still cached on CPU ${v.cpu}`]);
  const neverFreed = v.frameKind !== 'free' && v.genAtFill === v.genNow;
  fields.push(['freed by', v.freedBy ? `${v.freedBy.op} on CPU ${v.freedBy.cpu}` : neverFreed ? 'not freed since the fill (the same allocation)' : 'unknown (no free recorded)']);
  if (v.freedBy) fields.push([`CPU ${v.freedBy.cpu} now`, v.freerNow ?? 'unknown']);
  fields.push(['when', `iteration ${v.iteration}, step ${n(v.step)}, iteration seed ${v.seed}`]);
  return renderFields(fields, '  ');
}

/** The summary of a one-combination run, and its first violation in full. */
export function renderSingle(report: RunReport): string {
  const c = report.combinations[0];
  const k = c.kernel;
  const m = c.machine;
  const fields: [string, string][] = [
    ['scenario', `${report.scenario}: ${report.title}`],
    ['combination', `${comboName(c)} (expected: ${c.expected ?? 'not stated'})${c.hypothetical ? '; hypothetical: this kernel never ran on this hardware' : ''}`],
    ['run', `${runLine(report)}, ${n(c.iterations)} iterations in ${formatMs(c.wallMs)} (${Number.isFinite(c.iterationsPerSecond) ? c.iterationsPerSecond.toFixed(1) : '-'} it/s)`],
    ['outcome', c.outcome === 'caught' ? `caught: ${n(c.violations)} violations in ${n(c.violatingIterations)} iterations, first in iteration ${c.firstViolatingIteration} after ${formatMs(c.timeToFirstMs)}` : 'clean: no violation'],
    ['flushes', `${n(k.flushes.total)} (page ${n(k.flushes.page)}, range ${n(k.flushes.range)}, mm ${n(k.flushes.mm)}, all ${n(k.flushes.all)}; I-TLB ${n(k.flushes.itlb)}, walk cache ${n(k.flushes.walk)})`],
    ['IPIs', `${n(m.ipisSent)} sent, ${n(m.ipisReceived)} received, ${n(m.syncIpis)} sync; ${n(m.broadcasts)} broadcast invalidates`],
    ['frees', `${n(k.frees.data)} data, ${n(k.frees.tables)} tables (${n(k.frees.immediate)} immediate, ${n(k.frees.delayed)} delayed)`],
    ['TLB', `${n(m.accesses)} accesses, ${n(m.dtlbMisses)} D-TLB misses, ${n(m.itlbMisses)} I-TLB misses, ${n(m.walks)} walks (${n(m.speculativeWalks)} speculative)`],
    ...(m.lazy.periods ? [['lazy TLB', `${n(m.lazy.periods)} idle periods with the mm loaded, ${n(m.lazy.catchUps)} ended in a catch-up flush, ${n(m.lazy.leaves)} cut short by a flush IPI (the CPU left the mm)`] as [string, string]] : []),
    ...(m.gupWalks ? [['gup_fast', `${n(m.gupWalks)} walks, ${n(m.gupPins)} pages pinned, ${n(m.gupBackoffs)} backed off (reference failed or entry changed: the slow path's job, not a violation)`] as [string, string]] : []),
  ];
  const out = [renderFields(fields)];
  if (c.firstViolation) out.push('', 'first violation:', renderViolation(c.firstViolation));
  return out.join('\n');
}
