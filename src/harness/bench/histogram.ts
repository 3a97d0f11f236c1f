import * as hdr from 'hdr-histogram-js';

/** Latency summary of a sample, in nanoseconds. */
export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /**
   * The HdrHistogram itself, compressed and base64-encoded (the
   * HdrHistogram V2 compressed encoding, as hdr-histogram-js and the Java
   * and Go HdrHistogram libraries read it): histograms from several runs or
   * hosts add up exactly (`smpsim merge`), percentiles do not.
   */
  hdr: string;
}

const build = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 1e11, numberOfSignificantValueDigits: 3, useWebAssembly: false });

/** The summary of a histogram, and the histogram encoded. */
function summaryOf(h: hdr.Histogram): LatencySummary {
  const hist = hdr.encodeIntoCompressedBase64(h);
  if (h.totalCount === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0, hdr: hist };
  return { count: h.totalCount, p50: h.getValueAtPercentile(50), p90: h.getValueAtPercentile(90), p99: h.getValueAtPercentile(99), max: h.maxValue, mean: h.mean, hdr: hist };
}

/**
 * Summarise latencies (ns) through an HdrHistogram (3 significant digits,
 * 1 ns to 100 s), as latency tools report them.
 */
export function summarise(samplesNs: readonly number[]): LatencySummary {
  const h = build();
  try {
    for (const v of samplesNs) h.recordValue(Math.min(1e11, Math.max(1, Math.round(v))));
    return summaryOf(h);
  } finally {
    h.destroy();
  }
}

/**
 * The summary of several samples' histograms added up (each from its
 * `hdr`); throws on an encoding that does not decode. The maximum is the
 * parts' exact one (a decoded histogram knows it only to its precision).
 */
export function mergeSummaries(parts: readonly LatencySummary[]): LatencySummary {
  const h = build();
  try {
    for (const p of parts) {
      const one = hdr.decodeFromCompressedBase64(p.hdr, 32, false);
      try {
        h.add(one);
      } finally {
        one.destroy();
      }
    }
    const merged = summaryOf(h);
    return merged.count ? { ...merged, max: Math.max(...parts.map((p) => p.max)) } : merged;
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
