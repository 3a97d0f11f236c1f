import { MAX_ASIDS, MAX_FRAMES } from './constants.js';

/** Set-associative TLB geometry. */
export interface TlbGeometry {
  /** Number of sets (power of two). */
  sets: number;
  /** Ways per set. */
  ways: number;
}

/**
 * How remote TLBs are invalidated. 'range-broadcast': range invalidates are
 * broadcast by the hardware (ia64's ptc.ga), whole-address-space and global
 * flushes go by IPI (ia64's flush_tlb_mm / flush_tlb_all).
 */
export type FlushFlavour = 'ipi' | 'broadcast' | 'range-broadcast';

export const FLUSH_FLAVOURS: readonly FlushFlavour[] = ['ipi', 'broadcast', 'range-broadcast'];

/**
 * How the kernel's lockless get_user_pages_fast takes its page references (a
 * property of the kernel the machine runs, set from the policy):
 * - 'irq-off': interrupts off and get_page on each page, no recheck. Safe only
 *   where a free waits for an IPI the walker cannot take (x86 and sh gup.c of
 *   the 2.6 era).
 * - 'speculative': a reference that fails on a page whose count is zero
 *   (get_page_unless_zero, today try_grab_folio_fast), then the pmd and the
 *   PTE are read again and the walk backs off if either changed (powerpc's
 *   gup.c, then mm/gup.c).
 */
export type GupFastMode = 'irq-off' | 'speculative';

/** Order in which freed frames are handed out again. */
export type AllocOrder = 'lifo' | 'fifo' | 'random';

/** Everything that sizes and parameterises the simulated machine. */
export interface MachineConfig {
  /** Simulated CPUs, each a thread (1..32). The coordinator is one of them. */
  cpus: number;
  /** Physical frames. */
  frames: number;
  /** Words per page; also the number of entries of a page-table page (power of two, 16..256). */
  wordsPerPage: number;
  dtlb: TlbGeometry;
  itlb: TlbGeometry;
  /** Walk-cache (paging-structure cache) entries per CPU, fully associative; 0 disables it. */
  walkCache: number;
  /** Address-space slots (mm contexts); the ASID of slot i is i. */
  addressSpaces: number;
  /**
   * Files (inode + address_space slots, layout.ts FI): each has a page cache
   * of `filePages` slots, an i_mmap of the vmas that map it, and i_size
   * (`filePages` at reset). 0: no file mappings.
   */
  files: number;
  /** Pages per file: its page-cache slots, and its size at reset. */
  filePages: number;
  /** How a flush reaches the other CPUs. */
  flush: FlushFlavour;
  /** Whether a leaf (single-address or range) invalidate also drops walk-cache entries covering it. */
  leafDropsWalkCache: boolean;
  /** Probability per step that a CPU speculatively walks a random address of its workload. */
  speculation: number;
  /** How gup_fast references the pages it pins (see GupFastMode). */
  gupFast: GupFastMode;
  allocOrder: AllocOrder;
  /** Seed of the allocator's random order (allocOrder 'random'). */
  allocSeed: number;
  /** Capacity of the shared violation log; overflow is counted, not stored. */
  violationLogSize: number;
  /** Steps between two quiescence points of a running CPU (see cpu.ts). */
  quantum: number;
  /** Spins before a waiter falls back to Atomics.wait. */
  spinLimit: number;
  /** An IPI not acknowledged within this many milliseconds is a stuck CPU. */
  ipiTimeoutMs: number;
}

export const MAX_CPUS = 32;
/** File slots a machine may have (config.files). */
export const MAX_FILES = 64;

export const DEFAULT_MACHINE: MachineConfig = {
  cpus: 4,
  frames: 4096,
  wordsPerPage: 64,
  dtlb: { sets: 16, ways: 4 },
  itlb: { sets: 8, ways: 2 },
  walkCache: 8,
  addressSpaces: 8,
  files: 8,
  filePages: 64,
  flush: 'ipi',
  leafDropsWalkCache: true,
  speculation: 0,
  gupFast: 'irq-off',
  allocOrder: 'lifo',
  allocSeed: 1,
  violationLogSize: 256,
  quantum: 64,
  spinLimit: 2000,
  ipiTimeoutMs: 2000,
};

/** A configuration the machine cannot be built from. */
export class ConfigError extends Error {
  /** An error in what the user asked for (the CLI exits 2 on it). */
  readonly usage = true;
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

function intIn(name: string, v: number, lo: number, hi: number): void {
  if (!Number.isInteger(v) || v < lo || v > hi) {
    throw new ConfigError(`${name} must be an integer from ${lo} to ${hi}, got ${v}`);
  }
}

/** Fill defaults and check every field; throws ConfigError naming the bad field (an unknown one too). */
export function resolveConfig(partial: Partial<MachineConfig> = {}): MachineConfig {
  for (const k of Object.keys(partial)) {
    if (!Object.hasOwn(DEFAULT_MACHINE, k)) throw new ConfigError(`unknown machine setting '${k}' (known: ${Object.keys(DEFAULT_MACHINE).join(', ')})`);
  }
  for (const name of ['dtlb', 'itlb'] as const) {
    const g = partial[name];
    if (g === undefined) continue;
    if (typeof g !== 'object' || g === null) throw new ConfigError(`${name} must be an object { sets, ways }`);
    for (const k of Object.keys(g)) if (k !== 'sets' && k !== 'ways') throw new ConfigError(`unknown setting '${name}.${k}' (known: sets, ways)`);
  }
  const c: MachineConfig = {
    ...DEFAULT_MACHINE,
    ...partial,
    dtlb: { ...DEFAULT_MACHINE.dtlb, ...partial.dtlb },
    itlb: { ...DEFAULT_MACHINE.itlb, ...partial.itlb },
  };
  intIn('cpus', c.cpus, 1, MAX_CPUS);
  intIn('frames', c.frames, 8, MAX_FRAMES);
  if (!isPow2(c.wordsPerPage) || c.wordsPerPage < 16 || c.wordsPerPage > 256) {
    throw new ConfigError(`wordsPerPage must be a power of two from 16 to 256, got ${c.wordsPerPage}`);
  }
  for (const name of ['dtlb', 'itlb'] as const) {
    const g = c[name];
    if (!isPow2(g.sets) || g.sets > 4096) throw new ConfigError(`${name}.sets must be a power of two up to 4096, got ${g.sets}`);
    intIn(`${name}.ways`, g.ways, 1, 64);
  }
  intIn('walkCache', c.walkCache, 0, 256);
  intIn('addressSpaces', c.addressSpaces, 1, MAX_ASIDS);
  intIn('files', c.files, 0, MAX_FILES);
  intIn('filePages', c.filePages, 1, 1 << 16);
  if (typeof c.leafDropsWalkCache !== 'boolean') throw new ConfigError(`leafDropsWalkCache must be true or false, got ${String(c.leafDropsWalkCache)}`);
  if (!FLUSH_FLAVOURS.includes(c.flush)) throw new ConfigError(`flush must be ${FLUSH_FLAVOURS.join(', ')}, got ${String(c.flush)}`);
  if (!(c.speculation >= 0 && c.speculation <= 1)) throw new ConfigError(`speculation must be a probability from 0 to 1, got ${c.speculation}`);
  if (c.gupFast !== 'irq-off' && c.gupFast !== 'speculative') throw new ConfigError(`gupFast must be 'irq-off' or 'speculative', got ${String(c.gupFast)}`);
  if (!['lifo', 'fifo', 'random'].includes(c.allocOrder)) throw new ConfigError(`allocOrder must be lifo, fifo or random, got ${String(c.allocOrder)}`);
  intIn('allocSeed', c.allocSeed, 0, 0xffffffff);
  intIn('violationLogSize', c.violationLogSize, 1, 1 << 16);
  intIn('quantum', c.quantum, 1, 1 << 16);
  intIn('spinLimit', c.spinLimit, 0, 1 << 24);
  if (!(c.ipiTimeoutMs > 0 && Number.isFinite(c.ipiTimeoutMs))) throw new ConfigError(`ipiTimeoutMs must be positive, got ${c.ipiTimeoutMs}`);
  return c;
}
