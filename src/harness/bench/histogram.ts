import * as hdr from 'hdr-histogram-js';

/** Latency summary of a sample, in nanoseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/**
 * Summarise latencies (ns) through an HdrHistogram (3 significant digits,
 * 1 ns to 100 s), as latency tools report them.
 */
export function summarise(samplesNs: readonly number[]): LatencySummary {
  if (samplesNs.length === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e11, numberOfSignificantValueDigits: 3, useWebAssembly: false });
  try {
    for (const v of samplesNs) h.recordValue(Math.min(1e11, Math.max(1, Math.round(v))));
    return { count: h.totalCount, p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99), max: h.maxValue, mean: h.mean };
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
