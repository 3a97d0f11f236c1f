import type { AllocOrder } from '../machine/config.js';
import { CpuPool } from './pool.js';
import { checkCombination } from './check.js';
import type { ParamPoint } from './param-points.js';
import { type Combination, type Scenario, archLabel } from './scenario.js';
import { type ParamSweepResult, runParamSweep } from './soak-params.js';

/**
 * The knobs a correct policy must be indifferent to: the gather's batch
 * capacity (small batches flush and free mid-unmap, which is where the 2011
 * ARM code and gup_fast's reference rules are tested hardest), the order
 * in which freed frames come back, and whether the table batch's page can be
 * allocated (the fallback path must be as safe). `undefined` is the
 * scenario's own capacity.
 */
export const SWEEP_BATCH_CAPACITIES: readonly (number | undefined)[] = [1, 2, 7, 64, undefined];
export const SWEEP_ALLOC_ORDERS: readonly AllocOrder[] = ['lifo', 'fifo', 'random'];

export interface Knobs {
  batchCapacity?: number;
  allocOrder: AllocOrder;
  /** tlb_remove_table's batch page cannot be allocated (its fallback path). */
  tableBatchAlloc?: 'ok' | 'fails';
}

/** Every combination of the sweep's knobs, then the table batch's allocation failing (at two batch capacities). */
export function sweepKnobs(): Knobs[] {
  const grid: Knobs[] = SWEEP_BATCH_CAPACITIES.flatMap((batchCapacity) => SWEEP_ALLOC_ORDERS.map((allocOrder) => ({ batchCapacity, allocOrder })));
  return [...grid, { allocOrder: 'lifo', tableBatchAlloc: 'fails' }, { batchCapacity: 1, allocOrder: 'random', tableBatchAlloc: 'fails' }];
}

/** The scenario with its knobs turned. */
export function withKnobs(s: Scenario, k: Knobs): Scenario {
  return { ...s, batchCapacity: k.batchCapacity ?? s.batchCapacity, tableBatchAlloc: k.tableBatchAlloc ?? s.tableBatchAlloc, machine: { ...s.machine, allocOrder: k.allocOrder } };
}

export function knobsLabel(k: Knobs): string {
  return `batch ${k.batchCapacity ?? 'default'}, ${k.allocOrder}${k.tableBatchAlloc === 'fails' ? ', table batch alloc fails' : ''}`;
}

export interface SoakOptions {
  /** Iterations in total over every clean combination (default 10,000). */
  iterations?: number;
  /** At least 4 (default 4). */
  cpus?: number;
  seed?: number;
  /** Iterations a caught combination may take to be caught (default 300). */
  catchWithin?: number;
  /** The scenarios to soak (the CLI and tools pass the registry). */
  scenarios: readonly Scenario[];
  pool?: CpuPool;
  /** Called with one line per finished combination. */
  onLine?: (line: string) => void;
  /**
   * Then the knob sweep: every clean combination under every Knobs for this
   * many iterations each (0: no sweep; default 20), and every caught one
   * caught under every Knobs.
   */
  sweepIterations?: number;
  /**
   * Then the parameter sweep (soak-params.ts): every clean combination on
   * `paramRounds` rounds of 8 machines (CPU counts 2 to 9, ...) for this
   * many iterations each (default 0: none; `npm run soak` asks for 1).
   */
  paramIterations?: number;
  /** Rounds of the parameter sweep (default 1). */
  paramRounds?: number;
  /** These machines for every combination instead (tests). */
  paramPoints?: readonly ParamPoint[];
}

export interface SoakRow {
  scenario: string;
  combination: string;
  /** The sweep's knobs, or null for the scenario as declared. */
  knobs: string | null;
  expected: 'caught' | 'clean';
  iterations: number;
  violations: number;
  /** Iteration of the first violation (caught combinations). */
  caughtAt: number | null;
  ok: boolean;
}

/**
 * The soak: every scenario's clean combinations for `iterations` iterations in
 * all, with at least 4 CPUs, where a single violation is a failure (a false
 * positive: a bug in smpsim); and, in the same run, every caught combination
 * must be caught (with its scenario's own CPU count).
 */
export async function runSoak(o: SoakOptions): Promise<{ rows: SoakRow[]; ok: boolean; cleanIterations: number; params: ParamSweepResult | null }> {
  const cpus = Math.max(4, o.cpus ?? 4);
  const total = o.iterations ?? 10_000;
  const scenarios = o.scenarios;
  const pool = o.pool ?? new CpuPool();
  const clean: [Scenario, Combination][] = [];
  const caught: [Scenario, Combination][] = [];
  for (const s of scenarios) for (const c of s.combinations) (c.expect === 'clean' ? clean : c.expect === 'caught' ? caught : []).push([s, c]);
  const rows: SoakRow[] = [];
  let cleanIterations = 0;
  let params: ParamSweepResult | null = null;
  try {
    const line = (row: SoakRow, note = ''): void => {
      o.onLine?.(
        `${row.ok ? 'ok  ' : 'FAIL'} ${row.scenario.padEnd(24)} ${row.combination.padEnd(36)}${knobsText(row)} expected ${row.expected.padEnd(6)} ${String(row.iterations).padStart(6)} iterations, ${row.violations} violations${row.caughtAt !== null ? ` (first at iteration ${row.caughtAt})` : ''}${note}`,
      );
    };
    // Clean combinations hunt false positives with at least `cpus` CPUs; caught
    // ones run as their scenario declares, stress first and then PCT (checkCombination).
    const run = async (s: Scenario, c: Combination, iterations: number, knobs: Knobs | null = null): Promise<SoakRow> => {
      const scenario = knobs ? withKnobs(s, knobs) : s;
      const { report: cr, via } = await checkCombination(scenario, c, { pool, seed: o.seed ?? 1, cleanCpus: cpus, cleanIterations: iterations, catchWithin: o.catchWithin ?? 300 });
      const row: SoakRow = {
        scenario: s.name,
        combination: `${archLabel(c)} / ${c.hw}${via === 'pct' ? ' (pct)' : ''}`,
        knobs: knobs ? knobsLabel(knobs) : null,
        expected: c.expect as 'caught' | 'clean',
        iterations: cr.iterations,
        violations: cr.violations,
        caughtAt: cr.firstViolatingIteration,
        ok: cr.outcome === c.expect,
      };
      rows.push(row);
      line(row, via !== 'pct' ? '' : cr.outcome === 'caught' ? ' (stress mode missed it; the PCT scheduler found it)' : ' (missed by stress mode and by the PCT scheduler)');
      return row;
    };
    // Spread the clean iterations evenly; the remainder goes to the first ones.
    for (let i = 0; i < clean.length; i++) {
      const n = Math.floor(total / clean.length) + (i < total % clean.length ? 1 : 0);
      if (n > 0) cleanIterations += (await run(clean[i][0], clean[i][1], n)).iterations;
    }
    for (const [s, c] of caught) await run(s, c, 0);
    // The sweep: no knob may make a correct policy fail, or hide a bug
    // (unless the scenario says why the kernel itself closes the race there).
    const sweep = o.sweepIterations ?? 20;
    if (sweep > 0) {
      for (const knobs of sweepKnobs()) {
        for (const [s, c] of clean) cleanIterations += (await run(s, c, sweep, knobs)).iterations;
        for (const [s, c] of caught) {
          const why = exemptUnder(s, knobs, c);
          if (why === null) await run(s, c, 0, knobs);
          else o.onLine?.(`n/a  ${s.name.padEnd(24)} ${`${archLabel(c)} / ${c.hw}`.padEnd(36)} [${knobsLabel(knobs)}]`.padEnd(88) + ` not expected caught: ${why}`);
        }
      }
    }
    const paramIterations = o.paramIterations ?? 0;
    if (paramIterations > 0) params = await runParamSweep({ scenarios, pool, iterations: paramIterations, rounds: o.paramRounds, points: o.paramPoints, seed: o.seed, onLine: o.onLine });
  } finally {
    if (!o.pool) await pool.close();
  }
  return { rows, ok: rows.every((r) => r.ok) && (params === null || params.failures.length === 0), cleanIterations, params };
}

/** Why `s` declares the race of its caught combination `c` closed under `k` (Scenario.sweepExempt), or null. */
export function exemptUnder(s: Scenario, k: Knobs, c: Combination): string | null {
  return s.sweepExempt?.({ batchCapacity: k.batchCapacity ?? s.batchCapacity ?? 500, tableBatchAlloc: k.tableBatchAlloc ?? s.tableBatchAlloc ?? 'ok' }, c) ?? null;
}

function knobsText(row: SoakRow): string {
  return row.knobs ? ` [${row.knobs}]`.padEnd(26) : ''.padEnd(26);
}
