import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../src/harness/report-csv.js';
import { checkTrace } from '../../src/harness/trace-check.js';
import { inProcessCli } from './helpers.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'smpsim-outputs-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

// Two combinations of the seed's scenario: one caught (at this seed's pct iteration 1), one clean.
const RUN = ['run', 'arm-delayed-free', '--arch', 'arm-2.6.37,arm-2.6.38', '--hw', 'arm11mpcore', '--iterations', '3', '--cpus', '2', '--mode', 'pct'];
/** The CLI run for real in this process (same main(), files, output and exit code), on a warm CPU pool. */
const run = inProcessCli();

/** CSV rows (none of smpsim's fields holds a comma, quote or line break: split is enough here). */
const rows = (csv: string): string[][] => csv.split('\r\n').slice(0, -1).map((l) => l.split(','));

describe('run --csv', () => {
  it('writes one row per combination, the report\'s own values, CRLF lines; - prints it on stdout instead of the text', async () => {
    const csvFile = join(dir, 'r.csv');
    const reportFile = join(dir, 'r.json');
    const r = await run([...RUN, '--csv', csvFile, '--report', reportFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verdict: all 2 combinations as expected/m);
    const csv = readFileSync(csvFile, 'utf8');
    expect(csv.endsWith('\r\n')).toBe(true);
    const [header, ...body] = rows(csv);
    expect(header).toEqual(CSV_COLUMNS);
    const report = JSON.parse(readFileSync(reportFile, 'utf8'));
    expect(body).toHaveLength(report.combinations.length);
    const col = (row: string[], name: string): string => row[header.indexOf(name)];
    body.forEach((row, i) => {
      const c = report.combinations[i];
      expect([col(row, 'arch'), col(row, 'hw'), col(row, 'outcome'), col(row, 'expected'), col(row, 'as_expected'), col(row, 'ok')]).toEqual([c.archLabel, c.hw, c.outcome, c.expected, String(c.asExpected), 'true']);
      expect(Number(col(row, 'violations'))).toBe(c.violations);
      expect(Number(col(row, 'ipis_sent'))).toBe(c.machine.ipisSent);
      expect(col(row, 'first_violating_iteration')).toBe(c.firstViolatingIteration === null ? '' : String(c.firstViolatingIteration));
      expect(col(row, 'replay')).toBe(c.replay ?? '');
    });
    // pct mode runs the same iterations again: the same rows but for host time.
    const out = await run([...RUN, '--csv', '-']);
    expect(out.code).toBe(0);
    const hostTime = ['time_to_first_ms', 'wall_ms', 'iterations_per_second'].map((n) => header.indexOf(n));
    const strip = (rs: string[][]): string[][] => rs.map((row) => row.filter((_, i) => !hostTime.includes(i)));
    expect(strip(rows(out.stdout))).toEqual(strip(rows(csv)));
  });
});

describe('run --trace', () => {
  it('says on stderr which file it wrote and which iteration it holds; the file keeps every rule', async () => {
    const file = join(dir, 't.json');
    const r = await run([...RUN, '--trace', file, '--json']);
    expect(r.code).toBe(0);
    JSON.parse(r.stdout);
    const first = JSON.parse(r.stdout).combinations[0].firstViolatingIteration;
    expect(r.stderr).toBe(`smpsim: trace written to ${file}: arm-2.6.37 / arm11mpcore, iteration ${first} (the first violating one); open it in https://ui.perfetto.dev\n`);
    expect(checkTrace(JSON.parse(readFileSync(file, 'utf8')))).toEqual([]);
  });
});
