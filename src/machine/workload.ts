import { ConfigError } from './config.js';

/** A range of virtual pages a CPU works on. */
export interface AccessRange {
  /** First virtual page number. */
  start: number;
  pages: number;
  /** Stores go here (default true unless exec). */
  write?: boolean;
  /** Instruction fetches go here (default false). */
  exec?: boolean;
}

/** Relative weights of the operations a CPU's stream is drawn from. */
export interface OpMix {
  load: number;
  store: number;
  fetch: number;
  /** Disable interrupts for irqOffSteps steps (the steps still run: loads, stores...). */
  irqOff: number;
  /** Switch to another of the workload's address spaces. */
  switchMm: number;
  /** A lockless software walk (get_user_pages_fast) of a random page of the ranges. */
  gupFast: number;
  /** Do nothing for idleSteps steps (still taking interrupts). */
  idle: number;
}
export const OP_NAMES = ['load', 'store', 'fetch', 'irqOff', 'switchMm', 'gupFast', 'idle'] as const;

/** What one CPU runs: an operation stream drawn from a seed. */
export interface Workload {
  /** Address spaces (ASIDs) it may run; it starts in the first. */
  spaces: number[];
  ranges: AccessRange[];
  mix?: Partial<OpMix>;
  irqOffSteps?: number;
  idleSteps?: number;
  /**
   * Instructions a gup_fast walk executes between two table levels (with
   * interrupts still off), as the real one checks and maps entries between
   * its loads; default 4.
   */
  gupGap?: number;
  /** Pages a gup_fast call pins (nr_pages; the walk stays within one PTE table); default 8. */
  gupPages?: number;
  /** Probability per step of a speculative walk; default: the machine's. */
  speculation?: number;
  /** Stop after this many steps; default: when the machine's stop flag is raised. */
  steps?: number;
}

export const DEFAULT_MIX: OpMix = { load: 6, store: 3, fetch: 1, irqOff: 0, switchMm: 0, gupFast: 0, idle: 0 };

/** A workload turned into flat tables for the run loop. */
export interface CompiledWorkload {
  spaces: number[];
  /** Cumulative op weights scaled to 2^32. */
  cumulative: Float64Array;
  /** Flattened ranges by purpose: pairs (start, pages). */
  readRanges: number[];
  writeRanges: number[];
  execRanges: number[];
  irqOffSteps: number;
  idleSteps: number;
  gupGap: number;
  gupPages: number;
  speculation: number;
  steps: number;
}

function flatten(rs: AccessRange[]): number[] {
  return rs.flatMap((r) => [r.start, r.pages]);
}

export function compileWorkload(w: Workload, machineSpeculation: number, vpnLimit: number): CompiledWorkload {
  if (!w.spaces?.length) throw new ConfigError('workload.spaces must name at least one address space');
  if (!w.ranges?.length) throw new ConfigError('workload.ranges must hold at least one range');
  for (const r of w.ranges) {
    if (!Number.isInteger(r.start) || !Number.isInteger(r.pages) || r.start < 0 || r.pages < 1 || r.start + r.pages > vpnLimit) {
      throw new ConfigError(`workload range ${JSON.stringify(r)} is outside the ${vpnLimit} virtual pages`);
    }
  }
  const mix = { ...DEFAULT_MIX, ...w.mix };
  const exec = w.ranges.filter((r) => r.exec);
  const write = w.ranges.filter((r) => r.write ?? !r.exec);
  if (!exec.length) mix.fetch = 0;
  if (!write.length) mix.store = 0;
  if (w.spaces.length < 2) mix.switchMm = 0;
  const weights = OP_NAMES.map((n) => {
    const v = mix[n];
    if (!(v >= 0)) throw new ConfigError(`workload.mix.${n} must be a non-negative number`);
    return v;
  });
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0)) throw new ConfigError('workload.mix has no operation with a positive weight');
  const cumulative = new Float64Array(weights.length);
  let acc = 0;
  weights.forEach((v, i) => {
    acc += v;
    cumulative[i] = (acc / total) * 2 ** 32;
  });
  cumulative[weights.length - 1] = 2 ** 32;
  const speculation = w.speculation ?? machineSpeculation;
  if (!(speculation >= 0 && speculation <= 1)) throw new ConfigError('workload.speculation must be from 0 to 1');
  return {
    spaces: w.spaces,
    cumulative,
    readRanges: flatten(w.ranges),
    writeRanges: flatten(write),
    execRanges: flatten(exec),
    irqOffSteps: Math.max(1, w.irqOffSteps ?? 8),
    idleSteps: Math.max(1, w.idleSteps ?? 8),
    gupGap: Math.max(0, Math.floor(w.gupGap ?? 4)),
    gupPages: Math.max(1, Math.floor(w.gupPages ?? 8)),
    speculation,
    steps: w.steps ?? Infinity,
  };
}
