/**
 * Layout for the bench charts (svg.ts): how wide a text is, and the legend
 * box. An SVG has no text metrics of its own, so widths are estimated from
 * the advance widths of Helvetica/Arial (the usual sans-serif), rounded up per
 * character class: a layout that keeps these boxes apart keeps the rendered
 * text apart in those fonts, and in most others.
 */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
export const FONT_SIZE = 12;
export const FONT = `font-family="sans-serif" font-size="${FONT_SIZE}"`;

/** Advance width in em of one character (Helvetica's, rounded up by class). */
function advance(ch: string): number {
  if ('iljI.,:;\'|!`'.includes(ch)) return 0.3;
  if ('ftr()[]{} -/"'.includes(ch)) return 0.4;
  if ('MWmw%@'.includes(ch)) return 0.95;
  if (/[A-Z]/.test(ch)) return 0.78;
  if (ch.charCodeAt(0) > 0x2e7f) return 1; // CJK and the like: a full em
  return 0.6;
}

/** Estimated width of `text` at `fontSize` px. */
export function textWidth(text: string, fontSize = FONT_SIZE): number {
  let em = 0;
  for (const ch of text) em += advance(ch);
  return em * fontSize;
}

/**
 * The box of a text drawn at (x, baseline y) with `anchor`: from the cap
 * height above the baseline to the descenders below it.
 */
export function textBox(text: string, x: number, y: number, fontSize = FONT_SIZE, anchor: 'start' | 'middle' | 'end' = 'start'): Box {
  const w = textWidth(text, fontSize);
  const x0 = anchor === 'start' ? x : anchor === 'middle' ? x - w / 2 : x - w;
  return { x: x0, y: y - fontSize, w, h: fontSize * 1.25 };
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export function num(v: number): string {
  return Number.isFinite(v) ? String(Math.round(v * 100) / 100) : '0';
}

/** One legend line: a swatch (a filled square, or a line, dashed or not) and the name. */
export interface LegendEntry {
  name: string;
  colour: string;
  /** Draw a line (line charts) rather than a square (bars, histograms). */
  line?: boolean;
  dashed?: boolean;
}

const PAD = 6;
const ROW = 16;
const SWATCH = 18;

/** The size of a legend of `entries`. */
export function legendSize(entries: readonly LegendEntry[]): { w: number; h: number } {
  const text = Math.max(0, ...entries.map((e) => textWidth(e.name)));
  return { w: PAD * 2 + SWATCH + 4 + text, h: PAD * 2 + entries.length * ROW };
}

/** A legend in a framed white box with its top left at (x, y); every entry lies within the box. */
export function legend(entries: readonly LegendEntry[], x: number, y: number): { svg: string; box: Box } {
  const { w, h } = legendSize(entries);
  const out = [`<g class="legend" ${FONT}>`, `<rect class="legend-box" x="${num(x)}" y="${num(y)}" width="${num(w)}" height="${num(h)}" fill="white" stroke="#999"/>`];
  entries.forEach((e, i) => {
    // Baseline 12 px into its 16 px row: the text's box (12 px above, 3 below) stays in the row.
    const base = y + PAD + i * ROW + 12;
    const sx = x + PAD;
    const swatch = e.line
      ? `<line x1="${num(sx)}" y1="${num(base - 4)}" x2="${num(sx + SWATCH)}" y2="${num(base - 4)}" stroke="${e.colour}" stroke-width="2"${e.dashed ? ' stroke-dasharray="5,3"' : ''}/>`
      : `<rect x="${num(sx + 4)}" y="${num(base - 9)}" width="10" height="10" fill="${e.colour}"/>`;
    out.push(`${swatch}<text x="${num(sx + SWATCH + 4)}" y="${num(base)}">${esc(e.name)}</text>`);
  });
  out.push('</g>');
  return { svg: out.join('\n'), box: { x, y, w, h } };
}
