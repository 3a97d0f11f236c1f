import fc from 'fast-check';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { logBins } from '../../src/harness/bench/histogram.js';
import { BAR_LABEL_SIZE, GROUP_LABEL_ANGLE, groupedBarsSvg, histogramSvg, lineChartSvg } from '../../src/harness/bench/svg.js';
import { type Box, textBox } from '../../src/harness/bench/svg-layout.js';

/**
 * The charts' layout, on generated inputs: what is drawn stays on the canvas
 * and the bars' value labels never meet. Text extents come from the charts'
 * own width model (svg-layout.ts textWidth, Helvetica's advance widths
 * rounded up): the property is that the layout honours that model.
 */

type Node = Record<string, unknown>;

// Texts stay text: a label '-1e-6' must be measured as drawn, not as the number's other spelling '-0.000001'.
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', textNodeName: '#text', parseAttributeValue: false, parseTagValue: false });

/** Every element of the document, with its attributes, text, and the attributes of its ancestors (inherited ones). */
function elements(svg: string): { tag: string; a: Node; inherited: Node; text: string }[] {
  const out: { tag: string; a: Node; inherited: Node; text: string }[] = [];
  const walk = (tag: string, n: unknown, inherited: Node): void => {
    if (Array.isArray(n)) return n.forEach((m) => walk(tag, m, inherited));
    if (n === null || typeof n !== 'object') {
      out.push({ tag, a: {}, inherited, text: String(n) });
      return;
    }
    const o = n as Node;
    const attrs = Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'string' || typeof v === 'number'));
    delete attrs['#text'];
    out.push({ tag, a: attrs, inherited, text: o['#text'] === undefined ? '' : String(o['#text']) });
    for (const [k, v] of Object.entries(o)) if (typeof v === 'object') walk(k, v, { ...inherited, ...attrs });
  };
  walk('svg', parser.parse(svg).svg, {});
  return out;
}

const numAttr = (a: Node, k: string): number => Number(a[k]);

function canvasOf(svg: string): Box {
  const m = /viewBox="0 0 ([\d.]+) ([\d.]+)"/.exec(svg);
  expect(m).not.toBe(null);
  return { x: 0, y: 0, w: Number(m![1]), h: Number(m![2]) };
}

const within = (b: Box, c: Box): boolean => b.x >= c.x - 0.01 && b.y >= c.y - 0.01 && b.x + b.w <= c.x + c.w + 0.01 && b.y + b.h <= c.y + c.h + 0.01;
const disjoint = (a: Box, b: Box): boolean => a.x + a.w <= b.x + 0.01 || b.x + b.w <= a.x + 0.01 || a.y + a.h <= b.y + 0.01 || b.y + b.h <= a.y + 0.01;

/** The legend box is on the canvas, holds every legend entry, and overlaps no plot frame. */
function checkLegend(svg: string): void {
  const canvas = canvasOf(svg);
  const els = elements(svg);
  const box = els.find((e) => e.tag === 'rect' && e.a.class === 'legend-box');
  expect(box).toBeDefined();
  const lb: Box = { x: numAttr(box!.a, 'x'), y: numAttr(box!.a, 'y'), w: numAttr(box!.a, 'width'), h: numAttr(box!.a, 'height') };
  expect(within(lb, canvas), `legend ${JSON.stringify(lb)} on canvas ${canvas.w}x${canvas.h}`).toBe(true);
  const entries = els.filter((e) => e.tag === 'text' && e.inherited.class === 'legend');
  expect(entries.length).toBeGreaterThan(0);
  for (const t of entries) expect(within(textBox(t.text, numAttr(t.a, 'x'), numAttr(t.a, 'y')), lb), `legend entry '${t.text}'`).toBe(true);
  // The plot frames: the extent of each chart's axis lines.
  for (const axes of els.filter((e) => e.tag === 'line' && e.inherited.class === 'axes')) {
    const [x1, x2, y1, y2] = ['x1', 'x2', 'y1', 'y2'].map((k) => numAttr(axes.a, k));
    const frame = { x: Math.min(x1, x2), y: Math.min(y1, y2), w: Math.abs(x2 - x1), h: Math.abs(y2 - y1) };
    expect(disjoint(frame, lb), 'legend over a plot').toBe(true);
  }
  const title = els.find((e) => e.tag === 'text' && e.a.class === 'title')!;
  const tb = textBox(title.text, numAttr(title.a, 'x'), numAttr(title.a, 'y'), 15 * 1.1, 'middle');
  expect(within(tb, canvas), 'title on the canvas').toBe(true);
}

// Names as reports make them: printable, with the wide and narrow letters a policy label or a scenario can hold.
const name = (max: number) => fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzMWIl0123456789 -_:=/.,()µ%'.split('')), minLength: 1, maxLength: max, size: 'max' });
const names = (n: number, max: number) => fc.uniqueArray(name(max), { minLength: 1, maxLength: n });
const value = fc.oneof(fc.constant(0), fc.double({ min: -1e9, max: 1e12, noNaN: true }), fc.integer({ min: 0, max: 100 }));

describe('chart layout', () => {
  it('histogram: the legend is on the canvas and off the plot', () => {
    fc.assert(
      fc.property(names(4, 60), fc.array(fc.double({ min: 1, max: 1e9, noNaN: true }), { minLength: 1, maxLength: 50 }), (ns, xs) => {
        const b = logBins(xs);
        checkLegend(histogramSvg('latency', 'round trip', ns.map((n) => ({ name: n, edges: b.edges, counts: b.counts }))));
      }),
      { numRuns: 60 },
    );
  });

  it('line charts: the legend is on the canvas and off every panel, and so is the note', () => {
    fc.assert(
      fc.property(names(8, 50), fc.integer({ min: 1, max: 3 }), fc.option(name(200), { nil: undefined }), fc.boolean(), (ns, panels, note, dashed) => {
        const cpus = [1, 2, 4, 8];
        const svg = lineChartSvg(
          'shootdown',
          'CPUs',
          Array.from({ length: panels }, (_, p) => ({ title: `panel ${p}`, yLabel: 'y', yLog: p % 2 === 0, series: ns.map((n, i) => ({ name: n, points: cpus.map((c) => [c, (i + 1) * c * 10] as [number, number]), group: dashed ? ns[0] : undefined, dashed: dashed && i > 0 })) })),
          { xLog2: true, note },
        );
        checkLegend(svg);
        if (note !== undefined) {
          const t = elements(svg).find((e) => e.tag === 'text' && e.a.class === 'note')!;
          expect(within(textBox(t.text, numAttr(t.a, 'x'), numAttr(t.a, 'y')), canvasOf(svg))).toBe(true);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('grouped bars: value labels pairwise disjoint, and labels, group names and legend on the canvas', () => {
    fc.assert(
      fc.property(names(8, 40), fc.array(fc.tuple(name(40), fc.array(value, { minLength: 8, maxLength: 8 })), { minLength: 1, maxLength: 14 }), (series, gs) => {
        const svg = groupedBarsSvg('policies', series, gs.map(([n, vs]) => ({ name: n, values: vs.slice(0, series.length) })));
        checkLegend(svg);
        const canvas = canvasOf(svg);
        const els = elements(svg);
        const labels = els.filter((e) => e.tag === 'text' && e.a.class === 'bar-label').map((e) => textBox(e.text, numAttr(e.a, 'x'), numAttr(e.a, 'y'), BAR_LABEL_SIZE, 'middle'));
        expect(labels).toHaveLength(series.length * gs.length);
        for (let i = 0; i < labels.length; i++) {
          expect(within(labels[i], canvas), 'bar label on the canvas').toBe(true);
          for (let j = i + 1; j < labels.length; j++) expect(disjoint(labels[i], labels[j]), `bar labels ${i} and ${j} meet`).toBe(true);
        }
        // A group name ends at its anchor and slants down-left: its four corners, rotated, stay on the canvas.
        const th = (-GROUP_LABEL_ANGLE * Math.PI) / 180;
        for (const e of els.filter((x) => x.tag === 'text' && x.a.class === 'group-label')) {
          const [, tx, ty] = /translate\(([-\d.]+),([-\d.]+)\)/.exec(String(e.a.transform))!.map(Number);
          const b = textBox(e.text, 0, 0, 12, 'end');
          for (const [px, py] of [[b.x, b.y], [b.x + b.w, b.y], [b.x, b.y + b.h], [b.x + b.w, b.y + b.h]]) {
            const [x, y] = [tx + px * Math.cos(th) - py * Math.sin(th), ty + px * Math.sin(th) + py * Math.cos(th)];
            expect(x >= 0 && x <= canvas.w && y >= 0 && y <= canvas.h, `group name '${e.text}' off the canvas at ${x},${y}`).toBe(true);
          }
        }
      }),
      { numRuns: 60 },
    );
  });
});
