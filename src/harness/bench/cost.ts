/**
 * A cost model: cycles per simulated event, so that a report can show a
 * modelled cost beside the host time (which measures the simulator on this
 * host, not the hardware it simulates).
 *
 * The defaults are orders of magnitude, not measurements of any one part:
 *
 *   ipi-send          1500  initiator side of one IPI: the x2APIC ICR write and
 *                           the smp_call_function bookkeeping; published
 *                           shootdown studies put a whole x86 shootdown at a few
 *                           thousand cycles (Amit et al., "Don't shoot down TLB
 *                           shootdowns!", EuroSys 2020; Villavieja et al.,
 *                           "DiDi", PACT 2011)
 *   ipi-receive       2500  target side: interrupt entry, the flush handler,
 *                           EOI and return (interrupt delivery alone is on the
 *                           order of a thousand cycles or more)
 *   broadcast         1000  one broadcast invalidation and its completion
 *                           barrier (arm64 TLBI ...IS; DSB ISH): hundreds to a
 *                           few thousand cycles, growing with the core count
 *   invalidate-entry   150  one entry dropped (INVLPG is on the order of 100-250
 *                           cycles on x86)
 *   flush-tlb          500  one whole-TLB / whole-ASID flush on one CPU (a CR3
 *                           write or TLBI ASIDE1), refills not included
 *   walk-level          30  one level of a refill walk whose table lines are in
 *                           the data cache (a few tens of cycles; hundreds when
 *                           they miss)
 *
 * Modelled cycles of a run:
 *   ipi-send x IPIs sent + ipi-receive x IPIs received + broadcast x broadcasts
 *   + invalidate-entry x (D-TLB + I-TLB + walk-cache entries dropped)
 *   + flush-tlb x (whole-mm and global flushes x CPUs they reach)
 *   + walk-level x levels x refills caused by drops.
 */
export interface CostModel {
  ipiSend: number;
  ipiReceive: number;
  broadcast: number;
  invalidateEntry: number;
  flushTlb: number;
  walkLevel: number;
}

export const DEFAULT_COSTS: Readonly<CostModel> = Object.freeze({
  ipiSend: 1500,
  ipiReceive: 2500,
  broadcast: 1000,
  invalidateEntry: 150,
  flushTlb: 500,
  walkLevel: 30,
});

/** CLI names of the cost keys. */
export const COST_KEYS: Readonly<Record<string, keyof CostModel>> = Object.freeze({
  'ipi-send': 'ipiSend',
  'ipi-receive': 'ipiReceive',
  broadcast: 'broadcast',
  'invalidate-entry': 'invalidateEntry',
  'flush-tlb': 'flushTlb',
  'walk-level': 'walkLevel',
});

export class CostSpecError extends Error {
  readonly usage = true;
  constructor(message: string) {
    super(message);
    this.name = 'CostSpecError';
  }
}

/** "ipi-send=3000,walk-level=40" (and repeated specs) over the defaults. */
export function parseCosts(specs: readonly string[] = [], base: CostModel = DEFAULT_COSTS): CostModel {
  const out: CostModel = { ...base };
  for (const part of specs.flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CostSpecError(`--cost '${part}' is not KEY=CYCLES (keys: ${Object.keys(COST_KEYS).join(', ')})`);
    const key = part.slice(0, eq).trim();
    const field = Object.hasOwn(COST_KEYS, key) ? COST_KEYS[key] : undefined;
    if (!field) throw new CostSpecError(`unknown cost '${key}' (known: ${Object.keys(COST_KEYS).join(', ')})`);
    const raw = part.slice(eq + 1).trim();
    const v = Number(raw);
    if (raw === '' || !Number.isFinite(v) || v < 0) throw new CostSpecError(`cost ${key} must be a non-negative number of cycles, not '${raw}'`);
    out[field] = v;
  }
  return out;
}

/** Event counts a modelled cost is computed from. */
export interface CostEvents {
  ipisSent: number;
  ipisReceived: number;
  broadcasts: number;
  entriesDropped: number;
  /** Whole-TLB flushes applied, summed over the CPUs they reached. */
  wholeFlushes: number;
  refills: number;
  /** Table levels a refill walks. */
  levels: number;
}

export function modelledCycles(c: CostModel, e: CostEvents): number {
  return (
    c.ipiSend * e.ipisSent +
    c.ipiReceive * e.ipisReceived +
    c.broadcast * e.broadcasts +
    c.invalidateEntry * e.entriesDropped +
    c.flushTlb * e.wholeFlushes +
    c.walkLevel * e.levels * e.refills
  );
}
