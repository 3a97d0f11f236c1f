import { type Box, FONT, type LegendEntry, PALETTE, esc, legend, num, textWidth } from './svg-layout.js';

/**
 * Small, self-contained SVG charts for the bench reports: a histogram, line
 * charts (one or more panels sharing an x axis) and grouped bars. Every chart
 * has axes with ticks, axis labels, a title and a legend; every series is a
 * <g class="series" data-series="NAME"> so that tools (and tests) can find it.
 * The canvas grows to hold what is drawn: the legend (in its box, right of the
 * plot), the title, a note, the bars' value labels and the group names
 * (test/bench/svg-geometry.test.ts checks the boxes against the viewBox).
 */

export { esc } from './svg-layout.js';

/** Short tick label. */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (a < 0.01) return v.toExponential(0);
  return String(+v.toPrecision(3));
}

interface Scale {
  map: (v: number) => number;
  ticks: number[];
}

function linearTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
  return out;
}

function scale(lo: number, hi: number, p0: number, p1: number, log: boolean): Scale {
  if (log) {
    const a = Math.floor(Math.log10(Math.max(lo, 1e-12)));
    const b = Math.max(a + 1, Math.ceil(Math.log10(Math.max(hi, 1e-12))));
    const ticks: number[] = [];
    for (let e = a; e <= b; e++) ticks.push(10 ** e);
    return { map: (v) => p0 + ((Math.log10(Math.max(v, 10 ** a)) - a) / (b - a)) * (p1 - p0), ticks };
  }
  const ticks = linearTicks(lo, hi);
  const a = Math.min(lo, ticks[0]);
  const b = Math.max(hi, ticks[ticks.length - 1]);
  return { map: (v) => p0 + ((v - a) / (b - a || 1)) * (p1 - p0), ticks };
}

interface Frame {
  x: number;
  y: number;
  w: number;
  h: number;
}

function axes(f: Frame, xs: Scale | null, ys: Scale, xLabel: string, yLabel: string, xTickText?: (v: number) => string, yTickText: (v: number) => string = tickLabel): string {
  const out: string[] = [];
  out.push(`<g class="axes" stroke="#333" fill="none"><line x1="${f.x}" y1="${f.y + f.h}" x2="${f.x + f.w}" y2="${f.y + f.h}"/><line x1="${f.x}" y1="${f.y}" x2="${f.x}" y2="${f.y + f.h}"/></g>`);
  out.push(`<g class="y-ticks" ${FONT} text-anchor="end">`);
  for (const t of ys.ticks) {
    const y = ys.map(t);
    out.push(`<line x1="${f.x - 4}" y1="${num(y)}" x2="${f.x}" y2="${num(y)}" stroke="#333"/><line x1="${f.x}" y1="${num(y)}" x2="${f.x + f.w}" y2="${num(y)}" stroke="#ddd"/><text x="${f.x - 6}" y="${num(y + 4)}">${esc(yTickText(t))}</text>`);
  }
  out.push('</g>');
  if (xs) {
    out.push(`<g class="x-ticks" ${FONT} text-anchor="middle">`);
    for (const t of xs.ticks) {
      const x = xs.map(t);
      out.push(`<line x1="${num(x)}" y1="${f.y + f.h}" x2="${num(x)}" y2="${f.y + f.h + 4}" stroke="#333"/><text x="${num(x)}" y="${f.y + f.h + 17}">${esc(xTickText ? xTickText(t) : tickLabel(t))}</text>`);
    }
    out.push('</g>');
  }
  out.push(`<text class="x-label" ${FONT} text-anchor="middle" x="${f.x + f.w / 2}" y="${f.y + f.h + 36}">${esc(xLabel)}</text>`);
  out.push(`<text class="y-label" ${FONT} text-anchor="middle" transform="translate(${f.x - 52},${f.y + f.h / 2}) rotate(-90)">${esc(yLabel)}</text>`);
  return out.join('\n');
}

const TITLE_SIZE = 15;
/** Space kept between what is drawn and the canvas edge. */
const MARGIN = 12;

/** Whether a box lies within the canvas, with the margin to spare; the canvas width grows to hold it. */
function widthFor(boxes: readonly Box[], min: number): number {
  return Math.ceil(Math.max(min, ...boxes.map((b) => b.x + b.w + MARGIN)));
}

/** The title's box (bold, centred on the canvas of `width`). */
function titleWidth(title: string): number {
  // Bold runs about 10% wider than regular.
  return textWidth(title, TITLE_SIZE) * 1.1;
}

function doc(width: number, height: number, title: string, body: string[]): string {
  // The title is centred: the canvas is at least as wide as it, with margins.
  const W = Math.ceil(Math.max(width, titleWidth(title) + 2 * MARGIN));
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}">`,
    `<title>${esc(title)}</title>`,
    `<rect width="${W}" height="${height}" fill="white"/>`,
    `<text class="title" font-family="sans-serif" font-size="${TITLE_SIZE}" font-weight="bold" x="${W / 2}" y="22" text-anchor="middle">${esc(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

export interface HistogramSeries {
  name: string;
  /** Bin edges (length counts + 1) and counts. */
  edges: number[];
  counts: number[];
}

/** Histograms of latencies on a log x axis, series overlaid (semi-transparent). */
export function histogramSvg(title: string, xLabel: string, series: HistogramSeries[]): string {
  const H = 460;
  const f: Frame = { x: 80, y: 45, w: 520, h: 340 };
  const allEdges = series.flatMap((s) => s.edges);
  const xs = scale(Math.min(...allEdges), Math.max(...allEdges), f.x, f.x + f.w, true);
  const fractions = series.map((s) => {
    const total = s.counts.reduce((a, b) => a + b, 0) || 1;
    return s.counts.map((c) => c / total);
  });
  const ys = scale(0, Math.max(0.01, ...fractions.flat()), f.y + f.h, f.y, false);
  const body = [axes(f, xs, ys, xLabel, 'fraction of samples', (v) => formatNsTick(v))];
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length];
    body.push(`<g class="series" data-series="${esc(s.name)}" fill="${colour}" fill-opacity="0.55" stroke="${colour}">`);
    s.counts.forEach((_, k) => {
      const x0 = xs.map(s.edges[k]);
      const x1 = xs.map(s.edges[k + 1]);
      const y = ys.map(fractions[i][k]);
      body.push(`<rect x="${num(x0)}" y="${num(y)}" width="${num(Math.max(0.5, x1 - x0))}" height="${num(f.y + f.h - y)}"/>`);
    });
    body.push('</g>');
  });
  const lg = legend(series.map((s, i) => ({ name: s.name, colour: PALETTE[i % PALETTE.length] })), f.x + f.w + 20, f.y + 10);
  body.push(lg.svg);
  return doc(widthFor([lg.box], 800), H, title, body);
}

/** A duration in ns as a tick label: "500 ns", "2 µs", "1.5 ms", "3 s". */
export function formatNsTick(ns: number): string {
  if (ns >= 1e9) return `${+(ns / 1e9).toPrecision(3)} s`;
  if (ns >= 1e6) return `${+(ns / 1e6).toPrecision(3)} ms`;
  if (ns >= 1e3) return `${+(ns / 1e3).toPrecision(3)} µs`;
  return `${+ns.toPrecision(3)} ns`;
}

export interface LineSeries {
  name: string;
  points: [number, number][];
  /** Series of one group share a colour (e.g. a flavour's p50 and p99); default: the name. */
  group?: string;
  /** A dashed line (e.g. the p99 beside the solid p50). */
  dashed?: boolean;
}

export interface LinePanel {
  title: string;
  yLabel: string;
  yLog?: boolean;
  /** Format y ticks as durations (values in ns). */
  yNs?: boolean;
  series: LineSeries[];
}

/** Line charts side by side, sharing the x values (e.g. CPU counts). */
export function lineChartSvg(title: string, xLabel: string, panels: LinePanel[], opts: { xLog2?: boolean; note?: string } = {}): string {
  const PW = 420;
  const H = 470;
  const all = panels.flatMap((p) => p.series);
  const groups = [...new Set(all.map((s) => s.group ?? s.name))];
  const colourOf = (s: LineSeries): string => PALETTE[groups.indexOf(s.group ?? s.name) % PALETTE.length];
  const entries = new Map<string, LegendEntry>();
  for (const s of all) if (!entries.has(s.name)) entries.set(s.name, { name: s.name, colour: colourOf(s), line: true, dashed: s.dashed });
  const body: string[] = [];
  panels.forEach((p, pi) => {
    const f: Frame = { x: 80 + pi * PW, y: 60, w: PW - 110, h: 320 };
    const xsAll = p.series.flatMap((s) => s.points.map(([x]) => x));
    const ysAll = p.series.flatMap((s) => s.points.map(([, y]) => y)).filter((v) => Number.isFinite(v));
    const xLo = Math.min(...xsAll);
    const xHi = Math.max(...xsAll);
    const xMap = opts.xLog2 ? (v: number) => Math.log2(Math.max(v, 1)) : (v: number) => v;
    const xs0 = scale(xMap(xLo), xMap(xHi), f.x, f.x + f.w, false);
    const xTicks = [...new Set(xsAll)].sort((a, b) => a - b);
    const xs: Scale = { map: (v) => xs0.map(xMap(v)), ticks: xTicks };
    const positive = ysAll.filter((v) => v > 0);
    const ys = p.yLog && positive.length ? scale(Math.min(...positive), Math.max(...positive), f.y + f.h, f.y, true) : scale(0, Math.max(1e-9, ...ysAll), f.y + f.h, f.y, false);
    body.push(`<g class="panel" data-panel="${esc(p.title)}">`);
    body.push(`<text font-family="sans-serif" font-size="13" x="${f.x + f.w / 2}" y="${f.y - 10}" text-anchor="middle">${esc(p.title)}</text>`);
    body.push(axes(f, xs, ys, xLabel, p.yLabel, (v) => String(v), p.yNs ? formatNsTick : tickLabel));
    for (const s of p.series) {
      const colour = colourOf(s);
      const pts = s.points.filter(([, y]) => Number.isFinite(y) && (!p.yLog || y > 0));
      body.push(`<g class="series" data-series="${esc(s.name)}" stroke="${colour}" fill="${colour}">`);
      body.push(`<polyline fill="none" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,3"' : ''} points="${pts.map(([x, y]) => `${num(xs.map(x))},${num(ys.map(y))}`).join(' ')}"/>`);
      for (const [x, y] of pts) body.push(`<circle cx="${num(xs.map(x))}" cy="${num(ys.map(y))}" r="3"/>`);
      body.push('</g>');
    }
    body.push('</g>');
  });
  // Right of the last panel's plot (which ends 30 px before the panel's own end).
  const lg = legend([...entries.values()], panels.length * PW + 10, 80);
  body.push(lg.svg);
  const boxes = [lg.box];
  if (opts.note) {
    body.push(`<text class="note" ${FONT} x="20" y="${H - 12}">${esc(opts.note)}</text>`);
    boxes.push({ x: 20, y: H - 24, w: textWidth(opts.note), h: 15 });
  }
  return doc(widthFor(boxes, 60 + panels.length * PW), H, title, body);
}

export interface BarGroup {
  /** Metric name (a group of bars). */
  name: string;
  /** One value per series, in series order. */
  values: number[];
}

/** Bar value labels: small, centred over their bar. */
export const BAR_LABEL_SIZE = 9;
/** Group names are written at this angle (degrees, counter-clockwise), ending under their group's centre. */
export const GROUP_LABEL_ANGLE = 35;

/**
 * Grouped bars: one group per metric, one bar per series (policy). Metrics
 * have different units, so each group is scaled to its own largest value
 * (that bar is 100%); each bar is labelled with its absolute value. A bar is
 * at least as wide as the widest value label and 2 px more, so labels
 * centred over neighbouring bars never meet; the group names slant down to
 * the left of their group, and the margins grow to hold the longest.
 */
export function groupedBarsSvg(title: string, seriesNames: string[], groups: BarGroup[]): string {
  const n = Math.max(1, seriesNames.length);
  const labels = groups.map((g) => seriesNames.map((_, i) => tickLabel(g.values[i] ?? 0)));
  const bw = Math.max(22, ...labels.flat().map((l) => textWidth(l, BAR_LABEL_SIZE) + 4));
  const gw = Math.max(70, n * bw + 24);
  const rad = (GROUP_LABEL_ANGLE * Math.PI) / 180;
  const longest = Math.max(0, ...groups.map((g) => textWidth(g.name)));
  // A slanted name ending at its group's centre reaches longest x cos left of it and
  // longest x sin (plus a line's height) below it.
  const x0 = Math.max(80, Math.ceil(longest * Math.cos(rad) - gw / 2 + MARGIN));
  const f: Frame = { x: x0, y: 50, w: groups.length * gw, h: 300 };
  const H = Math.ceil(Math.max(480, f.y + f.h + 12 + longest * Math.sin(rad) + 16 + MARGIN));
  const ys = scale(0, 1, f.y + f.h, f.y, false);
  const body = [axes(f, null, ys, '', 'relative to the largest in the group', undefined, (v) => `${Math.round(v * 100)}%`)];
  seriesNames.forEach((s, i) => {
    body.push(`<g class="series" data-series="${esc(s)}" fill="${PALETTE[i % PALETTE.length]}">`);
    groups.forEach((g, gi) => {
      const max = Math.max(...g.values.map((v) => Math.abs(v)));
      const v = g.values[i] ?? 0;
      const frac = max > 0 ? Math.abs(v) / max : 0;
      const x = f.x + gi * gw + 12 + i * bw;
      const y = ys.map(frac);
      body.push(`<rect x="${num(x)}" y="${num(y)}" width="${num(bw - 2)}" height="${num(f.y + f.h - y)}"><title>${esc(`${s}: ${g.name} = ${tickLabel(v)}`)}</title></rect>`);
      body.push(`<text class="bar-label" font-family="sans-serif" font-size="${BAR_LABEL_SIZE}" fill="#222" text-anchor="middle" x="${num(x + (bw - 2) / 2)}" y="${num(y - 3)}">${esc(labels[gi][i])}</text>`);
    });
    body.push('</g>');
  });
  body.push(`<g class="x-ticks" ${FONT} text-anchor="end">`);
  groups.forEach((g, gi) => {
    const x = f.x + gi * gw + gw / 2;
    body.push(`<text class="group-label" transform="translate(${num(x)},${f.y + f.h + 12}) rotate(-${GROUP_LABEL_ANGLE})">${esc(g.name)}</text>`);
  });
  body.push('</g>');
  const lg = legend(seriesNames.map((s, i) => ({ name: s, colour: PALETTE[i % PALETTE.length] })), f.x + f.w + 30, f.y + 10);
  body.push(lg.svg);
  return doc(widthFor([lg.box], f.x + f.w + 300), H, title, body);
}
