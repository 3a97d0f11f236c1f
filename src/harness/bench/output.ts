
import type { LatencySummary } from './histogram.js';

export { writeFileAtomic } from '../output-file.js';

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)))) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV: a header row, then one row per record (same keys). */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\n') + '\n';
}

/** ns as "812 ns", "12.3 µs", "4.56 ms". */
export function formatNs(ns: number): string {
  if (!Number.isFinite(ns)) return '-';
  if (ns < 1e4) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** 1234567 as "1.23 M", 12345 as "12.3 k". */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const a = Math.abs(n);
  if (a >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (a >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  if (Number.isInteger(n)) return String(n);
  return n.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : 2);
}

/** The latency columns of a bench table (after a series name), as HdrHistogram users read them. */
export const LATENCY_HEADERS = ['samples', 'p50', 'p90', 'p99', 'p99.9', 'max'] as const;

/** A latency summary's cells under LATENCY_HEADERS. */
export function latencyCells(s: LatencySummary): string[] {
  return [String(s.count), formatNs(s.p50Ns), formatNs(s.p90Ns), formatNs(s.p99Ns), formatNs(s.p999Ns), formatNs(s.maxNs)];
}
