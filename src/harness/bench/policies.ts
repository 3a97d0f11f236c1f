import { type GatherStats, isPolicyName } from '../../kernel/index.js';
import { isFlavourName } from '../../machine/flavours.js';
import type { PolicyOptions } from '../../kernel/index.js';
import { type CpuPool, IterationAbandoned, type StopOptions } from '../pool.js';
import { CombinationExecution } from '../run-execution.js';
import { CombinationRunner, iterationSeed } from '../runner.js';
import { type Scenario, archLabel } from '../scenario.js';
import { type CostModel, DEFAULT_COSTS, modelledCycles } from './cost.js';
import { groupedBarsSvg } from './svg.js';

export interface PolicySpec {
  arch: string;
  archOptions?: PolicyOptions;
}

export interface PoliciesBenchOptions extends StopOptions {
  scenario: Scenario;
  /** Policies to compare (default: those the scenario declares, in order). */
  policies?: PolicySpec[];
  /** Hardware flavour (default: the scenario's first). */
  hw?: string;
  cpus?: number;
  iterations: number;
  seed?: number;
  costs?: CostModel;
  onProgress?: (text: string) => void;
}

/** Per-iteration means of one policy on the workload. */
export interface PolicyRow {
  policy: string;
  arch: string;
  archOptions: PolicyOptions;
  iterations: number;
  /** Kernel operations (removing syscalls) per iteration. */
  ops: number;
  ipisSent: number;
  ipisReceived: number;
  broadcasts: number;
  flushes: GatherStats['flushes'];
  dropped: { dtlb: number; itlb: number; walk: number; total: number };
  refillsAfterDrop: number;
  itlbRefillsAfterDrop: number;
  dtlbMisses: number;
  itlbMisses: number;
  walks: number;
  frees: { data: number; tables: number; immediate: number; delayed: number; delayMean: number; delayMax: number };
  /** Host time of one kernel operation: median over every operation of the run (ms). */
  hostMsPerOp: number;
  /** Modelled cycles per iteration (see cost.ts). */
  modelledCycles: number;
  violations: number;
}

export interface PoliciesBenchResult {
  bench: 'policies';
  scenario: string;
  hw: string;
  cpus: number;
  seed: number;
  iterations: number;
  costs: CostModel;
  rows: PolicyRow[];
  /** A paragraph answering the comparison, derived from the rows. */
  answer: string;
  /** Stopped early (StopOptions): only the policies measured in full have a row. */
  interrupted: boolean;
}

function median(xs: number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/** The policies a scenario declares, each once, in order. */
export function scenarioPolicies(s: Scenario): PolicySpec[] {
  const seen = new Map<string, PolicySpec>();
  for (const c of s.combinations) if (!seen.has(archLabel(c))) seen.set(archLabel(c), { arch: c.arch, archOptions: c.archOptions });
  return [...seen.values()];
}

/**
 * Each policy on the same scenario workload, hardware, CPUs and seeds (the
 * same iteration seeds for every policy): what it sent, flushed, dropped and
 * freed, what the drops cost in refills afterwards, the host time per kernel
 * operation, and a modelled cost.
 */
export async function benchPolicies(pool: CpuPool, o: PoliciesBenchOptions): Promise<PoliciesBenchResult> {
  const s = o.scenario;
  const policies = o.policies?.length ? o.policies : scenarioPolicies(s);
  if (!policies.length) throw new Error(`scenario '${s.name}' declares no policy; give --arch`);
  for (const p of policies) if (!isPolicyName(p.arch)) throw new Error(`unknown architecture policy '${p.arch}'`);
  const hw = o.hw ?? s.combinations[0]?.hw ?? 'x86';
  if (!isFlavourName(hw)) throw new Error(`unknown hardware flavour '${hw}'`);
  const cpus = o.cpus ?? s.cpus ?? 4;
  const seed = o.seed ?? 1;
  const costs = o.costs ?? DEFAULT_COSTS;
  const rows: PolicyRow[] = [];
  let interrupted = false;
  for (const p of policies) {
    if (o.shouldStop?.()) {
      interrupted = true;
      break;
    }
    const label = archLabel(p);
    o.onProgress?.(`policies: ${label}`);
    // The runner's own iteration and sums: the same threads, tasks and seeds as `smpsim run`.
    const combo = { ...p, hw, expect: null };
    const runner = new CombinationRunner(s, combo, cpus, pool, 'stress');
    await runner.bind();
    const exec = new CombinationExecution(combo, cpus);
    try {
      for (let it = 0; it < o.iterations; it++) exec.add(it, await runner.iteration(it, iterationSeed(seed, it), { abort: o.abort }));
    } catch (e) {
      if (!(e instanceof IterationAbandoned)) throw e;
      // A policy measured in part would not compare with the others: no row.
      interrupted = true;
      break;
    }
    const m = exec.totals;
    const kernel = exec.kernel;
    const t = {
      ipisSent: m.ipisSent,
      ipisReceived: m.ipisReceived,
      broadcasts: m.broadcasts,
      dtlb: m.entriesDropped.dtlb,
      itlb: m.entriesDropped.itlb,
      walk: m.entriesDropped.walk,
      refills: m.refillsAfterDrop,
      irefills: m.itlbRefillsAfterDrop,
      dtlbMisses: m.dtlbMisses,
      itlbMisses: m.itlbMisses,
      walks: m.walks,
    };
    const ops = exec.kernelOps;
    const hostMs = exec.hostMs;
    const violations = exec.violations;
    const n = o.iterations;
    const per = (v: number): number => v / n;
    const flushes = { ...kernel.flushes };
    for (const k of Object.keys(flushes) as (keyof typeof flushes)[]) flushes[k] = per(flushes[k]);
    const dropped = { dtlb: per(t.dtlb), itlb: per(t.itlb), walk: per(t.walk), total: per(t.dtlb + t.itlb + t.walk) };
    const row: PolicyRow = {
      policy: label,
      arch: p.arch,
      archOptions: { ...p.archOptions },
      iterations: n,
      ops: per(ops),
      ipisSent: per(t.ipisSent),
      ipisReceived: per(t.ipisReceived),
      broadcasts: per(t.broadcasts),
      flushes,
      dropped,
      refillsAfterDrop: per(t.refills),
      itlbRefillsAfterDrop: per(t.irefills),
      dtlbMisses: per(t.dtlbMisses),
      itlbMisses: per(t.itlbMisses),
      walks: per(t.walks),
      frees: {
        data: per(kernel.frees.data),
        tables: per(kernel.frees.tables),
        immediate: per(kernel.frees.immediate),
        delayed: per(kernel.frees.delayed),
        delayMean: kernel.frees.delayed ? kernel.frees.delaySum / kernel.frees.delayed : 0,
        delayMax: kernel.frees.delayMax,
      },
      hostMsPerOp: median(hostMs),
      modelledCycles: modelledCycles(costs, {
        ipisSent: per(t.ipisSent),
        ipisReceived: per(t.ipisReceived),
        broadcasts: per(t.broadcasts),
        entriesDropped: dropped.total,
        wholeFlushes: (flushes.mm + flushes.all) * cpus,
        refills: per(t.refills),
        levels: 3,
      }),
      violations,
    };
    rows.push(row);
  }
  return { bench: 'policies', scenario: s.name, hw, cpus, seed, iterations: o.iterations, costs: { ...costs }, rows, answer: answerFor(rows, hw), interrupted };
}

const pct = (a: number, b: number): string => (b === 0 ? (a === 0 ? '0%' : 'n/a') : `${a >= b ? '+' : ''}${(((a - b) / b) * 100).toFixed(0)}%`);
const f1 = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/**
 * One paragraph from the numbers. With an I-TLB-always policy and a policy
 * that flushes the whole mm after freeing tables (the seed's question), it
 * compares those two (and the exec-flag variant if present); otherwise it
 * names the cheapest policy by modelled cost.
 */
export function answerFor(rows: PolicyRow[], hw: string): string {
  if (!rows.length) return '';
  const always = rows.find((r) => r.archOptions.itlb === 'always');
  const whole = rows.filter((r) => r !== always && r.flushes.mm + r.flushes.all > 0).sort((a, b) => b.flushes.mm + b.flushes.all - (a.flushes.mm + a.flushes.all))[0];
  const execFlag = rows.find((r) => r !== always && r.arch === always?.arch && r.archOptions.itlb !== 'always');
  const remote = (r: PolicyRow): string => (r.ipisSent > 0 ? `${f1(r.ipisSent)} IPIs` : `${f1(r.broadcasts)} broadcasts`);
  if (always && whole) {
    const cheaper = always.modelledCycles < whole.modelledCycles;
    const parts = [
      `On ${hw}, flushing the I-TLBs unconditionally (${always.policy}) is ${cheaper ? 'cheaper' : 'not cheaper'} than the whole-mm flush after freeing page tables (${whole.policy}):`,
      `per iteration it made ${f1(always.flushes.total)} flushes (${f1(always.flushes.itlb)} with the I-TLB) against ${f1(whole.flushes.total)} (${f1(whole.flushes.mm + whole.flushes.all)} whole-mm), ${remote(always)} against ${remote(whole)},`,
      `dropped ${f1(always.dropped.total)} TLB and walk-cache entries against ${f1(whole.dropped.total)} (I-TLB ${f1(always.dropped.itlb)} against ${f1(whole.dropped.itlb)}),`,
      `and those drops cost ${f1(always.refillsAfterDrop)} refill misses afterwards against ${f1(whole.refillsAfterDrop)};`,
      `the modelled cost is ${Math.round(always.modelledCycles)} cycles against ${Math.round(whole.modelledCycles)} (${pct(always.modelledCycles, whole.modelledCycles)}), and host time per operation ${always.hostMsPerOp.toFixed(3)} ms against ${whole.hostMsPerOp.toFixed(3)} ms.`,
    ];
    if (execFlag) {
      const extra = always.dropped.itlb - execFlag.dropped.itlb;
      parts.push(
        `Carrying the exec flag in the gather (${execFlag.policy}) instead costs ${Math.round(execFlag.modelledCycles)} cycles (${pct(execFlag.modelledCycles, always.modelledCycles)} against always): ` +
          `'always' adds ${f1(always.flushes.itlb - execFlag.flushes.itlb)} I-TLB flushes per iteration, which dropped ${f1(Math.max(0, extra))} more I-TLB entries and caused ${f1(Math.max(0, always.itlbRefillsAfterDrop - execFlag.itlbRefillsAfterDrop))} more I-TLB refills` +
          `${extra <= 0 ? ' (the extra I-TLB flushes covered ranges the I-TLBs held nothing of)' : ''}.`,
      );
    }
    return parts.join(' ');
  }
  const best = [...rows].sort((a, b) => a.modelledCycles - b.modelledCycles)[0];
  const worst = [...rows].sort((a, b) => b.modelledCycles - a.modelledCycles)[0];
  return `On ${hw}, the cheapest policy by modelled cost is ${best.policy} (${Math.round(best.modelledCycles)} cycles per iteration: ${f1(best.flushes.total)} flushes, ${remote(best)}, ${f1(best.dropped.total)} entries dropped, ${f1(best.refillsAfterDrop)} refills after drops); the dearest is ${worst.policy} (${Math.round(worst.modelledCycles)} cycles, ${pct(worst.modelledCycles, best.modelledCycles)}).`;
}

/** The grouped bars of `bench policies --plot`: one group per metric, one bar per policy. */
export function policiesSvg(r: PoliciesBenchResult): string {
  const g = (name: string, f: (row: PolicyRow) => number) => ({ name, values: r.rows.map(f) });
  return groupedBarsSvg(`${r.scenario} on ${r.hw}: per iteration, by policy (${r.iterations} iterations, seed ${r.seed})`, r.rows.map((x) => x.policy), [
    g('IPIs sent', (x) => x.ipisSent),
    g('broadcasts', (x) => x.broadcasts),
    g('flushes', (x) => x.flushes.total),
    g('whole-mm flushes', (x) => x.flushes.mm + x.flushes.all),
    g('I-TLB flushes', (x) => x.flushes.itlb),
    g('D-TLB dropped', (x) => x.dropped.dtlb),
    g('I-TLB dropped', (x) => x.dropped.itlb),
    g('walk-cache dropped', (x) => x.dropped.walk),
    g('refills after drop', (x) => x.refillsAfterDrop),
    g('frees delayed', (x) => x.frees.delayed),
    g('host ms / op', (x) => x.hostMsPerOp),
    g('modelled cycles', (x) => x.modelledCycles),
  ]);
}
