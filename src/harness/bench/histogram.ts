import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

/**
 * hdr-histogram-js, loaded when a histogram is first made: the CLI imports
 * this module for every command, and loading the library took 37 ms of a
 * process start that only benches use it in.
 */
const requireHere = createRequire(import.meta.url);
let hdrLib: typeof Hdr | undefined;
function hdr(): typeof Hdr {
  return (hdrLib ??= requireHere('hdr-histogram-js') as typeof Hdr);
}

/**
 * Latency summary of a sample, every duration in nanoseconds (the unit is in
 * each name). The percentiles are HdrHistogram's, as its users read them: at
 * 3 significant digits, the highest value equivalent to the recorded one
 * (so within 0.1% above the exact nearest-rank percentile), but never above
 * `maxNs`, the exact maximum: p50 ≤ p90 ≤ p99 ≤ p99.9 ≤ max always, even for
 * one sample.
 */
export interface LatencySummary {
  count: number;
  p50Ns: number;
  p90Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
  meanNs: number;
  /**
   * The HdrHistogram itself, compressed and base64-encoded (the
   * HdrHistogram V2 compressed encoding, as hdr-histogram-js and the Java
   * and Go HdrHistogram libraries read it): histograms from several runs or
   * hosts add up exactly (`smpsim merge`), percentiles do not.
   */
  hdr: string;
}

/** The percentiles a summary carries, in its field order. */
export const PERCENTILES = [
  ['p50Ns', 50],
  ['p90Ns', 90],
  ['p99Ns', 99],
  ['p999Ns', 99.9],
] as const;

/** Values are recorded in whole ns from 1 ns to 100 s. */
const LOWEST = 1;
const HIGHEST = 1e11;

const build = (): Hdr.Histogram => hdr().build({ lowestDiscernibleValue: LOWEST, highestTrackableValue: HIGHEST, numberOfSignificantValueDigits: 3, useWebAssembly: false });

/** What a sample records: a whole number of ns within the histogram's range. */
export const recorded = (v: number): number => Math.min(HIGHEST, Math.max(LOWEST, Math.round(v)));

/**
 * The summary of a histogram, given the exact maximum and mean (the
 * histogram knows them only to its precision). A percentile is clamped to
 * the maximum: HdrHistogram reports the top of the value's bucket, which for
 * the largest values lies above the largest value recorded.
 */
function summaryOf(h: Hdr.Histogram, maxNs: number, meanNs: number): LatencySummary {
  const hist = hdr().encodeIntoCompressedBase64(h);
  if (h.totalCount === 0) return { count: 0, p50Ns: 0, p90Ns: 0, p99Ns: 0, p999Ns: 0, maxNs: 0, meanNs: 0, hdr: hist };
  const at = (q: number): number => Math.min(maxNs, h.getValueAtPercentile(q));
  return { count: h.totalCount, p50Ns: at(50), p90Ns: at(90), p99Ns: at(99), p999Ns: at(99.9), maxNs, meanNs, hdr: hist };
}

/**
 * Summarise latencies (ns) through an HdrHistogram (3 significant digits,
 * 1 ns to 100 s), as latency tools report them.
 */
export function summarise(samplesNs: readonly number[]): LatencySummary {
  const h = build();
  try {
    let max = 0;
    let sum = 0;
    for (const s of samplesNs) {
      const v = recorded(s);
      h.recordValue(v);
      if (v > max) max = v;
      sum += v;
    }
    return summaryOf(h, max, samplesNs.length ? sum / samplesNs.length : 0);
  } finally {
    h.destroy();
  }
}

/**
 * The summary of several samples' histograms added up (each from its
 * `hdr`); throws on an encoding that does not decode. The maximum and the
 * mean are the parts' exact ones (the largest maximum; the mean weighted by
 * count), not the decoded histogram's approximations.
 */
export function mergeSummaries(parts: readonly LatencySummary[]): LatencySummary {
  const h = build();
  try {
    for (const p of parts) {
      const one = hdr().decodeFromCompressedBase64(p.hdr, 32, false);
      try {
        h.add(one);
      } finally {
        one.destroy();
      }
    }
    const count = parts.reduce((t, p) => t + p.count, 0);
    const max = parts.reduce((m, p) => Math.max(m, p.maxNs), 0);
    const mean = count ? parts.reduce((t, p) => t + p.meanNs * p.count, 0) / count : 0;
    return summaryOf(h, max, mean);
  } finally {
    h.destroy();
  }
}

/** Log-spaced bins over a sample (for plots): [lo, hi) edges in ns and counts. */
export interface Bins {
  edges: number[];
  counts: number[];
}

export function logBins(samplesNs: readonly number[], perDecade = 10): Bins {
  const xs = samplesNs.filter((v) => v > 0);
  if (xs.length === 0) return { edges: [1, 10], counts: [0] };
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of xs) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const a = Math.floor(Math.log10(lo) * perDecade) / perDecade;
  const b = Math.ceil(Math.log10(hi) * perDecade + 1e-9) / perDecade;
  const n = Math.max(1, Math.round((b - a) * perDecade));
  const edges = Array.from({ length: n + 1 }, (_, i) => 10 ** (a + i / perDecade));
  const counts = new Array<number>(n).fill(0);
  for (const v of xs) counts[Math.min(n - 1, Math.max(0, Math.floor((Math.log10(v) - a) * perDecade)))]++;
  return { edges, counts };
}
