import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PERCENTILES, mergeSummaries, recorded, summarise } from '../../src/harness/bench/histogram.js';

/** The exact nearest-rank percentile (HdrHistogram's definition: the smallest value with at least q% of the count at or below it). */
function nearestRank(sorted: readonly number[], q: number): number {
  return sorted[Math.max(1, Math.ceil((q / 100) * sorted.length)) - 1];
}

/** Equal but for floating-point rounding (means of sums up to 1e12). */
const close = (a: number, b: number): boolean => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));

// Latencies from 1 ns to 10 s, small samples included (one sample is where p99 once passed max).
const samples = fc.array(fc.double({ min: 0.5, max: 1e10, noNaN: true }), { minLength: 1, maxLength: 300 });

describe('latency summaries (HdrHistogram)', () => {
  it('p50 <= p90 <= p99 <= p99.9 <= max, max is the exact maximum, and each percentile is within 0.1% above the exact one', () => {
    fc.assert(
      fc.property(samples, (xs) => {
        const s = summarise(xs);
        const sorted = xs.map(recorded).sort((a, b) => a - b);
        expect(s.count).toBe(xs.length);
        expect(s.maxNs).toBe(sorted[sorted.length - 1]);
        const values = PERCENTILES.map(([k]) => s[k]);
        for (let i = 1; i < values.length; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
        expect(values[values.length - 1]).toBeLessThanOrEqual(s.maxNs);
        for (const [k, q] of PERCENTILES) {
          const exact = nearestRank(sorted, q);
          // 3 significant digits: a value's bucket is at most 1/1024 of it wide (at least 1 ns).
          expect(s[k]).toBeGreaterThanOrEqual(exact);
          expect(s[k]).toBeLessThanOrEqual(Math.max(exact + 1, exact * (1 + 1 / 1024)));
        }
        expect(close(s.meanNs, sorted.reduce((a, b) => a + b, 0) / sorted.length)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('one sample: every percentile is that sample, even where its HdrHistogram bucket reaches above it', () => {
    // 12345 ns lies in a bucket of 8 values whose top, 12351, HdrHistogram reports as the percentile.
    const s = summarise([12345]);
    expect([s.p50Ns, s.p90Ns, s.p99Ns, s.p999Ns, s.maxNs]).toEqual([12345, 12345, 12345, 12345, 12345]);
  });

  it('an empty sample summarises to zeros', () => {
    expect(summarise([])).toMatchObject({ count: 0, p50Ns: 0, p99Ns: 0, maxNs: 0, meanNs: 0 });
  });

  it('merged summaries are the summary of all the samples (percentiles from the summed histogram, exact max and mean)', () => {
    fc.assert(
      fc.property(fc.array(samples, { minLength: 1, maxLength: 4 }), (parts) => {
        const { meanNs, ...merged } = mergeSummaries(parts.map((xs) => summarise(xs)));
        const { meanNs: mean, ...whole } = summarise(parts.flat());
        expect(merged).toEqual(whole);
        expect(close(meanNs, mean)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });
});
