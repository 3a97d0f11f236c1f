import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  benchMergeInfoSchema,
  costsSchema,
  ipiReportSchema,
  latencySchema,
  parseBenchReport,
  policiesReportSchema,
  policyRowSchema,
  provenanceSchema,
  shootdownPointSchema,
  shootdownReportSchema,
} from '../../src/harness/bench/report-schema.js';
import { DEFAULT_COSTS } from '../../src/harness/bench/cost.js';
import { summarise } from '../../src/harness/bench/histogram.js';
import { provenance } from '../../src/harness/provenance.js';

const doc = readFileSync(new URL('../../docs/bench-report.md', import.meta.url), 'utf8');

/** The field names of the table under the heading that starts with `heading`. */
function fields(heading: string): string[] {
  const start = doc.indexOf(`\n## ${heading}`);
  expect(start, heading).toBeGreaterThan(0);
  const end = doc.indexOf('\n## ', start + 1);
  return [...doc.slice(start, end === -1 ? undefined : end).matchAll(/^\| `([A-Za-z0-9]+)` \|/gm)].map((m) => m[1]);
}

describe('docs/bench-report.md and the bench report schemas', () => {
  it.each([
    ['LatencySummary', latencySchema],
    ['Provenance', provenanceSchema],
    ['Costs', costsSchema],
    ['IpiReport', ipiReportSchema],
    ['ShootdownReport', shootdownReportSchema],
    ['ShootdownPoint', shootdownPointSchema],
    ['PoliciesReport', policiesReportSchema],
    ['PolicyRow', policyRowSchema],
    ['BenchMergeInfo', benchMergeInfoSchema],
  ])('%s: the table lists exactly the fields of the schema, in its order', (heading, schema) => {
    expect(fields(heading)).toEqual(Object.keys(schema.shape));
  });

  it('the costs table and schema name every cost of the model', () => {
    expect(Object.keys(costsSchema.shape).sort()).toEqual(Object.keys(DEFAULT_COSTS).sort());
  });

  it('the provenance schema takes what provenance() makes', () => {
    expect(provenanceSchema.safeParse(provenance(['bench', 'ipi'])).success).toBe(true);
  });

  it('the example is a report the schema accepts, with its percentiles in order', () => {
    const example = /## Example[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc);
    expect(example).not.toBe(null);
    const parsed = parseBenchReport(JSON.parse(example![1]));
    expect(parsed).not.toHaveProperty('error');
    const r = (parsed as { report: { bench: string; ipi: { p99Ns: number; maxNs: number } } }).report;
    expect(r.bench).toBe('ipi');
    expect(r.ipi.p99Ns).toBeLessThanOrEqual(r.ipi.maxNs);
  });

  it('a report with a field renamed or missing is refused, naming the field', () => {
    const { p50Ns, ...old } = summarise([100, 200]);
    const bad = { tool: 'smpsim', version: '0', provenance: provenance([]), bench: 'ipi', hostCores: 2, samples: 2, rounds: 1, ipi: { ...old, p50: p50Ns }, raw: summarise([1]), ratioP50: 1, ratioP99: 1, modelledCycles: 1, interrupted: false, costs: DEFAULT_COSTS };
    expect(parseBenchReport(bad)).toEqual({ error: expect.stringMatching(/^ipi\.p50Ns: /) });
    expect(parseBenchReport({ bench: 'nope' })).toEqual({ error: expect.stringMatching(/not a bench/) });
  });
});
