/** Median of a sample (sorted copy). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

export function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** One line of a benchmark report: the figure, its baseline, the ratio and the target. */
export function verdict(name: string, ratio: number, target: string, ok: boolean): string {
  return `${name}: ratio ${ratio.toFixed(2)} (target ${target}) ${ok ? 'met' : 'NOT MET'}`;
}
