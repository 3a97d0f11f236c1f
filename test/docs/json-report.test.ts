import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { combinationSchema, kindSchema, mergeInfoSchema, parseRunReport, provenanceSchema, runReportSchema, violationSchema } from '../../src/harness/report-schema.js';
import { CSV_COLUMNS } from '../../src/harness/report-csv.js';
import { VIOLATION_KINDS } from '../../src/machine/constants.js';

const doc = readFileSync(new URL('../../docs/json-report.md', import.meta.url), 'utf8');

describe('docs/json-report.md', () => {
  it('lists every violation kind the checker records, with its description, and no other', () => {
    const section = doc.slice(doc.indexOf('### Violation kinds'), doc.indexOf('## MachineTotals'));
    const rows = [...section.matchAll(/^\| `([a-z-]+)` \| (.+) \|$/gm)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual(Object.values(VIOLATION_KINDS).map((k) => [k.name, k.description]));
  });
});

describe('docs/json-report.md and the schema merge reads reports with', () => {
  /** The field names of the table under `heading`. */
  const fields = (heading: string): string[] => {
    const start = doc.indexOf(`\n## ${heading}`);
    expect(start).toBeGreaterThan(0);
    const end = doc.indexOf('\n## ', start + 1);
    return [...doc.slice(start, end).matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
  };

  it.each([
    ['RunReport (top level)', runReportSchema],
    ['CombinationReport', combinationSchema],
    ['KindReport', kindSchema],
    ['MergeInfo', mergeInfoSchema],
    ['ViolationReport', violationSchema],
    ['Provenance', provenanceSchema],
  ])('%s: the table lists exactly the fields of the schema, in its order', (heading, schema) => {
    expect(fields(heading)).toEqual(Object.keys(schema.shape));
  });

  it('the CSV section names every column reportCsv writes, and no other', () => {
    const start = doc.indexOf('\n## `smpsim run --csv`');
    expect(start).toBeGreaterThan(0);
    const table = doc.slice(doc.indexOf('| column |', start), doc.indexOf('\n\n', doc.indexOf('| column |', start)));
    const named = [...table.matchAll(/^\| ([^|]+) \|/gm)].slice(1).flatMap((m) => [...m[1].matchAll(/`([a-z_]+)`/g)].map((x) => x[1]));
    expect(new Set(named)).toEqual(new Set(CSV_COLUMNS));
  });

  it('the example is a report the schema accepts', () => {
    const example = /## Example\s+```json\n([\s\S]*?)\n```/.exec(doc);
    expect(example).not.toBe(null);
    expect(parseRunReport(JSON.parse(example![1]))).not.toHaveProperty('error');
  });
});
