import { describe, expect, it } from 'vitest';
import { emptyStats } from '../../src/kernel/index.js';
import { CSV_COLUMNS, reportCsv } from '../../src/harness/report-csv.js';
import { type CombinationReport, type RunReport, emptyTotals } from '../../src/harness/report.js';

function combination(o: Partial<CombinationReport>): CombinationReport {
  return {
    arch: 'linux-6',
    archOptions: {},
    archLabel: 'linux-6',
    hw: 'x86',
    hypothetical: false,
    expected: null,
    outcome: 'clean',
    asExpected: null,
    iterations: 0,
    violations: 0,
    violatingIterations: 0,
    firstViolatingIteration: null,
    timeToFirstMs: null,
    firstViolation: null,
    replay: null,
    kinds: [],
    wallMs: 0,
    iterationsPerSecond: NaN,
    machine: emptyTotals(),
    kernel: emptyStats(),
    ...o,
  };
}

function report(scenario: string, combinations: CombinationReport[]): RunReport {
  return { tool: 'smpsim', version: '0', scenario, title: '', mode: 'stress', seed: 1, cpus: 2, depth: null, iterationsAsked: 1, durationMs: null, scenarioFile: null, shard: null, combinations, ok: true, interrupted: false };
}

describe('reportCsv', () => {
  it('quotes as RFC 4180 says: a comma, a quote or a line break quoted, quotes doubled; CRLF between records', () => {
    const csv = reportCsv(report('a,"b"\nc', [combination({})]));
    const [header, row, end] = csv.split('\r\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(row.startsWith('"a,""b""\nc",linux-6,x86,false,')).toBe(true);
    expect(end).toBe('');
  });

  it('writes nulls and rates over no time as empty fields, booleans as true/false, fractions to 6 digits', () => {
    const c = combination({ expected: 'caught', outcome: 'clean', asExpected: false, wallMs: 1 / 3, iterationsPerSecond: Infinity });
    const [header, row] = reportCsv(report('s', [c])).split('\r\n').map((l) => l.split(','));
    const col = (name: string): string => row[header.indexOf(name)];
    expect([col('as_expected'), col('ok'), col('first_violating_iteration'), col('iterations_per_second'), col('wall_ms'), col('shard')]).toEqual(['false', 'false', '', '', '0.333333', '']);
  });
});
