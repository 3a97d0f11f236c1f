import itlbExecPolicy from '../../scenarios/itlb-exec-policy.js';
import { archLabel } from '../../src/harness/scenario.js';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCosts, modelledCycles, DEFAULT_COSTS } from '../../src/harness/bench/cost.js';
import { toCsv } from '../../src/harness/bench/output.js';
import { parseBenchReport } from '../../src/harness/bench/report-schema.js';
import { groupedBarsSvg, histogramSvg, lineChartSvg } from '../../src/harness/bench/svg.js';
import { cli, cliInProcess, inProcessCli } from '../cli/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'smpsim-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** The benches run for real in this process (same main(), output and exit code), on a warm CPU pool. */
const run = inProcessCli();

/** Parse CSV (RFC 4180, as toCsv writes it) into rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(cell), (cell = '');
    else if (ch === '\n') row.push(cell), rows.push(row), (row = []), (cell = '');
    else cell += ch;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows;
}

/** Well-formed SVG: validates as XML, root <svg>, and the names of its series. */
function svgSeries(text: string): string[] {
  expect(XMLValidator.validate(text)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(text);
  expect(doc.svg).toBeDefined();
  expect(doc.svg.xmlns).toBe('http://www.w3.org/2000/svg');
  const names: string[] = [];
  const walk = (n: unknown): void => {
    if (Array.isArray(n)) n.forEach(walk);
    else if (n && typeof n === 'object') {
      const o = n as Record<string, unknown>;
      if (o.class === 'series' && typeof o['data-series'] === 'string') names.push(o['data-series']);
      for (const v of Object.values(o)) walk(v);
    }
  };
  walk(doc.svg);
  return names;
}

describe('bench outputs', () => {
  it('csv quotes what needs quoting and parses back', () => {
    const text = toCsv(['a', 'b'], [['x,y', 1.5], ['say "hi"', 2]]);
    expect(parseCsv(text)).toEqual([['a', 'b'], ['x,y', '1.5'], ['say "hi"', '2']]);
  });

  it('svg charts are well-formed and name their series', () => {
    expect(svgSeries(histogramSvg('h <&>', 'ns', [{ name: 'ipi', edges: [100, 200, 400], counts: [3, 1] }, { name: 'raw', edges: [100, 200, 400], counts: [1, 3] }]))).toEqual(['ipi', 'raw']);
    expect(svgSeries(lineChartSvg('l', 'CPUs', [{ title: 'p', yLabel: 'y', yLog: true, series: [{ name: 'ipi', points: [[1, 10], [2, 100]] }, { name: 'broadcast', points: [[1, 5], [2, 50]] }] }], { xLog2: true }))).toEqual(['ipi', 'broadcast']);
    expect(svgSeries(groupedBarsSvg('g', ['a & b', 'c'], [{ name: 'IPIs', values: [1, 2] }, { name: 'zero', values: [0, 0] }]))).toEqual(['a & b', 'c']);
  });

  it('cost model: defaults, overrides, errors', () => {
    expect(parseCosts([])).toEqual(DEFAULT_COSTS);
    expect(parseCosts(['ipi-send=3000,walk-level=40', 'broadcast=0'])).toMatchObject({ ipiSend: 3000, walkLevel: 40, broadcast: 0, ipiReceive: DEFAULT_COSTS.ipiReceive });
    expect(() => parseCosts(['ipi=3'])).toThrow(/unknown cost 'ipi'/);
    expect(() => parseCosts(['ipi-send=-1'])).toThrow(/non-negative/);
    expect(() => parseCosts(['ipi-send'])).toThrow(/KEY=CYCLES/);
    const c = { ipiSend: 1, ipiReceive: 10, broadcast: 100, invalidateEntry: 1000, flushTlb: 10_000, walkLevel: 100_000 };
    expect(modelledCycles(c, { ipisSent: 1, ipisReceived: 1, broadcasts: 1, entriesDropped: 1, wholeFlushes: 1, refills: 1, levels: 3 })).toBe(311_111);
  });

  it('bench ipi --json parses and has the histogram summaries; --plot writes an SVG via a temporary file', async () => {
    const plot = join(dir, 'ipi.svg');
    const r = await run(['bench', 'ipi', '--samples', '40', '--rounds', '2', '--json', '--plot', plot]);
    expect(r.code, r.stderr).toBe(0);
    // stderr is not a terminal: no progress bar, only the note that the plot was written.
    expect(r.stderr).toBe(`smpsim: plot written to ${plot}\n`);
    const j = JSON.parse(r.stdout);
    expect(j.bench).toBe('ipi');
    expect(parseBenchReport(j)).not.toHaveProperty('error');
    expect(j.provenance).toMatchObject({ smpsim: j.version, node: process.version, argv: ['bench', 'ipi', '--samples', '40', '--rounds', '2', '--json', '--plot', plot] });
    for (const s of [j.ipi, j.raw]) {
      expect(s.count).toBe(40);
      for (const k of ['p50Ns', 'p90Ns', 'p99Ns', 'p999Ns', 'maxNs']) expect(s[k]).toBeGreaterThan(0);
      expect(s.p50Ns).toBeLessThanOrEqual(s.p99Ns);
      expect(s.p999Ns).toBeLessThanOrEqual(s.maxNs);
    }
    expect(j.ratioP50).toBeCloseTo(j.ipi.p50Ns / j.raw.p50Ns, 6);
    const series = svgSeries(readFileSync(plot, 'utf8'));
    expect(series).toHaveLength(2);
    expect(series[0]).toMatch(/^IPI round trip/);
    expect(series[1]).toMatch(/^raw ping-pong/);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('bench shootdown --csv parses: one row per CPU count and flavour', async () => {
    const plot = join(dir, 'sd.svg');
    const r = await run(['bench', 'shootdown', '--cpus', '1,2', '--samples', '30', '--ops', '6', '--budget', '50ms', '--csv', '--plot', plot]);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseCsv(r.stdout);
    expect(rows[0].slice(0, 5)).toEqual(['cpus', 'flavour', 'hw', 'samples', 'p50_ns']);
    expect(rows.slice(1).map((x) => `${x[0]} ${x[1]}`)).toEqual(['1 ipi', '1 broadcast', '2 ipi', '2 broadcast']);
    for (const x of rows.slice(1)) expect(Number(x[4])).toBeGreaterThan(0);
    expect(svgSeries(readFileSync(plot, 'utf8'))).toEqual(['ipi p50', 'ipi p99', 'broadcast p50', 'broadcast p99', 'ipi shootdowns/s', 'broadcast shootdowns/s', 'ipi munmap+touch/s', 'broadcast munmap+touch/s']);
    const json = await run(['bench', 'shootdown', '--cpus', '1', '--flavour', 'ipi', '--samples', '10', '--ops', '4', '--budget', '20ms', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const j = JSON.parse(json.stdout);
    expect(parseBenchReport(j)).not.toHaveProperty('error');
    expect(j.provenance.argv.slice(0, 2)).toEqual(['bench', 'shootdown']);
  });

  it('bench policies --json on itlb-exec-policy: one row per policy, and an answer from the numbers', async () => {
    const plot = join(dir, 'pol.svg');
    const r = await run(['bench', 'policies', 'itlb-exec-policy', '--iterations', '2', '--json', '--plot', plot]);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(parseBenchReport(j)).not.toHaveProperty('error');
    expect(j.provenance.argv.slice(0, 3)).toEqual(['bench', 'policies', 'itlb-exec-policy']);
    expect(j.rows.map((x: { policy: string }) => x.policy)).toEqual(itlbExecPolicy.combinations.map((c) => archLabel(c)));
    const row = (label: string) => j.rows.find((x: { policy: string }) => x.policy === label);
    const [whole, vmaExec, always] = ['generic-2011-series', 'generic-range:itlb=vma-exec', 'generic-range:itlb=always'].map(row);
    // Deterministic parts: the kernel's flushes per iteration.
    expect(whole.flushes).toMatchObject({ range: 2, mm: 2, total: 4 });
    expect(vmaExec.flushes).toMatchObject({ range: 2, mm: 0, itlb: 1, total: 2 });
    expect(always.flushes).toMatchObject({ range: 2, mm: 0, itlb: 2, total: 2 });
    expect(j.answer).toMatch(/flushing the I-TLBs unconditionally \(generic-range:itlb=always\) is (not )?cheaper than the whole-mm flush/);
    expect(svgSeries(readFileSync(plot, 'utf8'))).toEqual(j.rows.map((x: { policy: string }) => x.policy));
    const csv = await run(['bench', 'policies', 'itlb-exec-policy', '--iterations', '1', '--arch', 'linux-6', '--hw', 'x86', '--csv']);
    expect(csv.code, csv.stderr).toBe(0);
    const rows = parseCsv(csv.stdout);
    expect(rows).toHaveLength(2);
    expect(rows[1][0]).toBe('linux-6');
    expect(Number(rows[1][rows[0].indexOf('ipis_sent')])).toBeGreaterThanOrEqual(0);
  });

  it('bad input: one line on stderr, exit 2', async () => {
    const bad = [
      ['bench', 'shootdown', '--cpus', '1,x'],
      ['bench', 'shootdown', '--cpus', '0'],
      ['bench', 'shootdown', '--flavour', 'smoke'],
      ['bench', 'ipi', '--samples', '0'],
      ['bench', 'ipi', '--json', '--csv'],
      ['bench', 'ipi', '--cost', 'ipi-snd=3'],
      ['bench', 'ipi', '--plot', join(dir, 'nope', 'x.svg')],
      ['bench', 'ipi', '--plot', join(dir, 'x.png')],
      ['bench', 'policies', 'no-such-scenario'],
      ['bench', 'policies', 'itlb-exec-policy', '--arch', 'arm-9'],
      ['bench', 'policies', 'itlb-exec-policy', '--hw', 'vax'],
    ];
    // Refused before anything is measured: in this process (cliInProcess: a case that got past the
    // checks would exit 0), and the first and last in real processes too.
    const results = [];
    for (const args of bad) results.push(await cliInProcess(args));
    results.push(...(await Promise.all([bad[0], bad[bad.length - 1]].map((args) => cli(args)))));
    const argvs = [...bad, bad[0], bad[bad.length - 1]];
    for (const [i, r] of results.entries()) {
      const args = argvs[i];
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^smpsim: /);
    }
  });
});
