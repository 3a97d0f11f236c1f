import type { AllocOrder } from '../machine/config.js';

/**
 * The machine parameters a correct policy must be indifferent to, as the
 * soak's parameter sweep varies them: CPU counts 2 to 9 (from fewer threads
 * than the host has cores to many more), the gather's batch capacity from 1
 * (a flush and free every page) to 500, every allocator order, and small
 * and large TLBs and walk caches (a tiny TLB evicts, and refills, all the
 * time; a large one keeps stale entries longest).
 */
export const PARAM_CPUS = [2, 3, 4, 5, 6, 7, 8, 9] as const;
export const PARAM_BATCHES = [1, 2, 7, 64, 500] as const;
export const PARAM_ALLOC_ORDERS: readonly AllocOrder[] = ['lifo', 'fifo', 'random'];
export type Size = 'small' | 'large';
export const PARAM_SIZES: readonly Size[] = ['small', 'large'];

/** The TLB geometries and walk-cache entries of 'small' and 'large'. */
export const TLB_SIZES: Record<Size, { dtlb: { sets: number; ways: number }; itlb: { sets: number; ways: number } }> = {
  small: { dtlb: { sets: 1, ways: 2 }, itlb: { sets: 1, ways: 1 } },
  large: { dtlb: { sets: 256, ways: 8 }, itlb: { sets: 64, ways: 4 } },
};
export const WALK_CACHE_SIZES: Record<Size, number> = { small: 1, large: 64 };

/** One machine of the sweep. */
export interface ParamPoint {
  cpus: number;
  batchCapacity: number;
  allocOrder: AllocOrder;
  tlb: Size;
  walkCache: Size;
}

/**
 * One round of machines for one combination: a machine per CPU count (8),
 * the other parameters turning with the CPU count from `offset`, so that
 * the round holds every batch capacity (5 of 8), every allocator order, and
 * each of the four small/large pairs of TLB and walk cache twice. Each
 * combination gets its own offset (its place in the sweep), so that over
 * consecutive offsets every CPU count meets every batch capacity, order and
 * size: every pair of values of two dimensions is run somewhere (a test
 * checks it for 30 offsets). Eight runs a combination, where the full grid
 * would take 480.
 */
export function paramPoints(offset = 0): ParamPoint[] {
  const o = Math.abs(Math.trunc(offset));
  return PARAM_CPUS.map((cpus, k) => ({
    cpus,
    batchCapacity: PARAM_BATCHES[(k + o) % PARAM_BATCHES.length],
    allocOrder: PARAM_ALLOC_ORDERS[(k + o) % PARAM_ALLOC_ORDERS.length],
    tlb: PARAM_SIZES[(k + o) % 2],
    walkCache: PARAM_SIZES[((k >> 1) + (o >> 1)) % 2],
  }));
}

export function paramLabel(p: ParamPoint): string {
  return `${p.cpus} CPUs, batch ${p.batchCapacity}, ${p.allocOrder}, ${p.tlb} TLB, ${p.walkCache} walk cache`;
}
