/** mulberry32: a small, fast, seedable 32-bit generator (public domain). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    // Fold a seed of up to 53 bits into the 32-bit state.
    this.s = (seed ^ Math.floor(seed / 2 ** 32) ^ 0x9e3779b9) | 0;
  }
  /** Uniform 32-bit unsigned integer. */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.next() / 4294967296) * n);
  }
  /** Uniform float in [0, 1). */
  float(): number {
    return this.next() / 4294967296;
  }
}

/** The seed of CPU `cpu` in a run seeded `seed` (distinct, stable streams). */
export function cpuSeed(seed: number, cpu: number): number {
  return (Math.imul(seed | 0, 0x85ebca6b) ^ Math.imul(cpu + 1, 0xc2b2ae35) ^ Math.floor(seed / 2 ** 32)) >>> 0;
}
