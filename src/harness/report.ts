import { type GatherStats, addStats, emptyStats, kernelOpName } from '../kernel/index.js';
import type { Violation } from '../machine/checker.js';
import { CPU_OP_NAMES, FRAME_KIND_NAMES, VIOLATION_KIND_NAMES } from '../machine/constants.js';
import type { CpuCounters } from '../machine/machine.js';
import type { Provenance } from './provenance.js';
import type { Shard } from './shard.js';

/** A violation as reports print it: codes decoded, addresses as bytes (4 KiB pages). */
export interface ViolationReport {
  kind: string;
  cpu: number;
  /** Virtual page number and address. */
  vpn: number;
  address: string;
  frame: number;
  frameKind: string;
  genAtFill: number;
  genNow: number;
  ownerBefore: number;
  ownerNow: number;
  step: number;
  iteration: number;
  seed: number;
  /** What the CPU was doing. */
  cpuOp: string;
  /** Table level the walker read (walker violations). */
  level: number | null;
  /** The kernel operation that freed the frame, and on which CPU. */
  freedBy: { op: string; cpu: number } | null;
  /** What the freeing CPU was doing when the violation was seen. */
  freerNow: string | null;
  /** Stale after return: the system call that returned with the translation still cached, and its CPU. */
  call: { op: string; cpu: number } | null;
}

export const PAGE_SHIFT = 12;

export function describeViolation(v: Violation): ViolationReport {
  return {
    kind: VIOLATION_KIND_NAMES[v.kind] ?? `kind ${v.kind}`,
    cpu: v.cpu,
    vpn: v.vpn,
    address: `0x${(v.vpn * 2 ** PAGE_SHIFT).toString(16)}`,
    frame: v.frame,
    frameKind: FRAME_KIND_NAMES[v.frameKind] ?? `kind ${v.frameKind}`,
    genAtFill: v.genAtFill,
    genNow: v.genNow,
    ownerBefore: v.ownerBefore,
    ownerNow: v.ownerNow,
    step: v.step,
    iteration: v.iteration,
    seed: v.seed,
    cpuOp: CPU_OP_NAMES[v.cpuOp] ?? `op ${v.cpuOp}`,
    level: v.level || null,
    freedBy: v.freedBy.cpu >= 0 ? { op: kernelOpName(v.freedBy.op), cpu: v.freedBy.cpu } : null,
    freerNow: v.freedBy.cpu >= 0 ? kernelOpName(v.freerNow.op) : null,
    call: v.call ? { op: kernelOpName(v.call.op), cpu: v.call.cpu } : null,
  };
}

/** Machine-wide event counts summed over CPUs and iterations. */
export interface MachineTotals {
  steps: number;
  accesses: number;
  ipisSent: number;
  ipisReceived: number;
  broadcasts: number;
  syncIpis: number;
  dtlbMisses: number;
  itlbMisses: number;
  walks: number;
  speculativeWalks: number;
  gupWalks: number;
  /** Pages gup_fast pinned, and walks that backed off (speculative reference failed, or pmd/PTE changed). */
  gupPins: number;
  gupBackoffs: number;
  /** Lazy TLB periods (idle with the mm loaded), those that ended in a catch-up flush (a flush had skipped the CPU), and those a flush IPI cut short (the CPU left the mm). */
  lazy: { periods: number; catchUps: number; leaves: number };
  entriesDropped: { dtlb: number; itlb: number; walk: number };
  /** TLB misses that refilled an entry an invalidation had dropped (what a flush cost afterwards), and of those I-TLB refills. */
  refillsAfterDrop: number;
  itlbRefillsAfterDrop: number;
}

export function emptyTotals(): MachineTotals {
  return {
    steps: 0,
    accesses: 0,
    ipisSent: 0,
    ipisReceived: 0,
    broadcasts: 0,
    syncIpis: 0,
    dtlbMisses: 0,
    itlbMisses: 0,
    walks: 0,
    speculativeWalks: 0,
    gupWalks: 0,
    gupPins: 0,
    gupBackoffs: 0,
    lazy: { periods: 0, catchUps: 0, leaves: 0 },
    entriesDropped: { dtlb: 0, itlb: 0, walk: 0 },
    refillsAfterDrop: 0,
    itlbRefillsAfterDrop: 0,
  };
}

export function addCounters(t: MachineTotals, c: CpuCounters): void {
  t.steps += c.steps;
  t.accesses += c.accesses;
  t.ipisSent += c.ipisSent;
  t.ipisReceived += c.ipisReceived;
  t.broadcasts += c.broadcastsSent;
  t.syncIpis += c.syncIpisSent;
  t.dtlbMisses += c.dtlbMisses;
  t.itlbMisses += c.itlbMisses;
  t.walks += c.walks;
  t.speculativeWalks += c.speculativeWalks;
  t.gupWalks += c.gupWalks;
  t.gupPins += c.gupPins;
  t.gupBackoffs += c.gupBackoffs;
  t.lazy.periods += c.lazyEntries;
  t.lazy.catchUps += c.lazyCatchUps;
  t.lazy.leaves += c.lazyLeaves;
  t.entriesDropped.dtlb += c.invalidatedDtlb;
  t.entriesDropped.itlb += c.invalidatedItlb;
  t.entriesDropped.walk += c.invalidatedWalk;
  t.refillsAfterDrop += c.refillsAfterDrop;
  t.itlbRefillsAfterDrop += c.itlbRefillsAfterDrop;
}

/** Add the counts of `b` into `a`: every field of MachineTotals is a sum. */
export function addTotals<T extends object>(a: T, b: T): T {
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  for (const k of Object.keys(x)) {
    if (typeof x[k] === 'number') (x[k] as number) += y[k] as number;
    else addTotals(x[k] as object, y[k] as object);
  }
  return a;
}

/** One kind of violation a combination showed: how often, and where it first showed. */
export interface KindReport {
  kind: string;
  /** Iterations whose violation log holds a violation of this kind. */
  iterations: number;
  /** The first of them (index from 0), and its first violation of this kind. */
  firstIteration: number;
  firstViolation: ViolationReport;
  /** pct mode: the token that replays firstIteration; null in stress mode. */
  replay: string | null;
}

/** The outcome of one combination of a scenario. */
export interface CombinationReport {
  arch: string;
  archOptions: Record<string, unknown>;
  /** arch with its options, as the CLI takes it. */
  archLabel: string;
  hw: string;
  /** The policy's kernel never ran on this hardware (kernel/policies/hardware.ts). */
  hypothetical: boolean;
  expected: 'caught' | 'clean' | null;
  outcome: 'caught' | 'clean';
  /** null when the scenario states no expectation for this combination. */
  asExpected: boolean | null;
  iterations: number;
  /** Violations recorded, in all iterations (log overflow included). */
  violations: number;
  violatingIterations: number;
  firstViolatingIteration: number | null;
  /** Wall time from the start of this combination to the end of the first violating iteration. */
  timeToFirstMs: number | null;
  firstViolation: ViolationReport | null;
  /** pct mode: the token `smpsim replay` re-runs the first violating iteration from. */
  replay: string | null;
  /** Every kind of violation seen, in the order first seen (by iteration, then within it). */
  kinds: KindReport[];
  wallMs: number;
  iterationsPerSecond: number;
  machine: MachineTotals;
  kernel: GatherStats;
}

/** What `smpsim run --json` prints and runScenario returns. */
export interface RunReport {
  tool: 'smpsim';
  version: string;
  scenario: string;
  title: string;
  mode: 'stress' | 'pct';
  seed: number;
  cpus: number;
  /** pct: the depth; null in stress mode. */
  depth: number | null;
  /** Iterations per combination the run (or the campaign a shard is part of) asks for; null when only a duration bounds it. */
  iterationsAsked: number | null;
  /** The duration per combination asked (ms), or null. */
  durationMs: number | null;
  /** The scenario file (absolute path, sha256 of its bytes); null for a registered scenario or one passed as an object. */
  scenarioFile: { path: string; sha256: string } | null;
  /** The shard of a campaign this run is; null for a whole run (and for a merged report). */
  shard: Shard | null;
  combinations: CombinationReport[];
  /** Every combination as expected (combinations without expectation are ignored). */
  ok: boolean;
  interrupted: boolean;
  /** Only in a report `smpsim merge` wrote: the shards it adds up. */
  merged?: MergeInfo;
  /** Where the report was made (smpsim and Node versions, host, date, command line); absent in reports of versions before it. */
  provenance?: Provenance;
}

/** What a merged report is made of. */
export interface MergeInfo {
  /** Shards in the campaign. */
  n: number;
  /** The shards merged (from 1, ascending), and those missing. */
  shards: number[];
  missing: number[];
  /** Some shard is missing: the sums cover only the shards merged. */
  incomplete: boolean;
  /** Each shard report merged (a merged one's own parts in its place): its shards and where it was made (null: a report without provenance). */
  parts: { shards: number[]; provenance: Provenance | null }[];
}

export { addStats, emptyStats };
