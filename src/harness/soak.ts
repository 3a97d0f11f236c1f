import { SCENARIOS } from '../../scenarios/index.js';
import { CpuPool } from './pool.js';
import { runScenario } from './runner.js';
import { type Combination, type Scenario, archLabel } from './scenario.js';

export interface SoakOptions {
  /** Iterations in total over every clean combination (default 10,000). */
  iterations?: number;
  /** At least 4 (default 4). */
  cpus?: number;
  seed?: number;
  /** Iterations a caught combination may take to be caught (default 300). */
  catchWithin?: number;
  scenarios?: readonly Scenario[];
  pool?: CpuPool;
  /** Called with one line per finished combination. */
  onLine?: (line: string) => void;
}

export interface SoakRow {
  scenario: string;
  combination: string;
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
export async function runSoak(o: SoakOptions = {}): Promise<{ rows: SoakRow[]; ok: boolean; cleanIterations: number }> {
  const cpus = Math.max(4, o.cpus ?? 4);
  const total = o.iterations ?? 10_000;
  const scenarios = o.scenarios ?? SCENARIOS;
  const pool = o.pool ?? new CpuPool();
  const clean: [Scenario, Combination][] = [];
  const caught: [Scenario, Combination][] = [];
  for (const s of scenarios) for (const c of s.combinations) (c.expect === 'clean' ? clean : c.expect === 'caught' ? caught : []).push([s, c]);
  const rows: SoakRow[] = [];
  let cleanIterations = 0;
  try {
    // Clean combinations hunt false positives with at least `cpus` CPUs;
    // caught ones run as their scenario declares (a race may need fewer
    // threads than the host has cores to show in stress mode).
    const run = async (s: Scenario, c: Combination, iterations: number, stopAtFirst: boolean, mode: 'stress' | 'pct' = 'stress'): Promise<SoakRow> => {
      const n = stopAtFirst ? (s.cpus ?? 4) : Math.max(cpus, s.cpus ?? 4);
      const r = await runScenario({ scenario: { ...s, combinations: [c] }, cpus: n, iterations, seed: o.seed ?? 1, pool, stopAtFirst, mode });
      const cr = r.combinations[0];
      const row: SoakRow = {
        scenario: s.name,
        combination: `${archLabel(c)} / ${c.hw}${mode === 'pct' ? ' (pct)' : ''}`,
        expected: c.expect as 'caught' | 'clean',
        iterations: cr.iterations,
        violations: cr.violations,
        caughtAt: cr.firstViolatingIteration,
        ok: cr.outcome === c.expect,
      };
      rows.push(row);
      if (stopAtFirst && !row.ok && mode === 'stress') {
        o.onLine?.(`...  ${row.scenario.padEnd(24)} ${row.combination.padEnd(36)} expected caught: stress mode missed it in ${row.iterations} iterations; trying the PCT scheduler`);
        return row;
      }
      o.onLine?.(
        `${row.ok ? 'ok  ' : 'FAIL'} ${row.scenario.padEnd(24)} ${row.combination.padEnd(36)} expected ${row.expected.padEnd(6)} ${String(row.iterations).padStart(6)} iterations, ${row.violations} violations${row.caughtAt !== null ? ` (first at iteration ${row.caughtAt})` : ''}`,
      );
      return row;
    };
    // Spread the clean iterations evenly; the remainder goes to the first ones.
    for (let i = 0; i < clean.length; i++) {
      const n = Math.floor(total / clean.length) + (i < total % clean.length ? 1 : 0);
      if (n > 0) cleanIterations += (await run(clean[i][0], clean[i][1], n, false)).iterations;
    }
    // A caught combination that stress mode misses (free-running races
    // depend on the host's scheduler) must be found by the PCT scheduler.
    for (const [s, c] of caught) {
      const row = await run(s, c, o.catchWithin ?? 300, true);
      if (!row.ok) {
        rows.pop();
        await run(s, c, 100, true, 'pct');
      }
    }
  } finally {
    if (!o.pool) await pool.close();
  }
  return { rows, ok: rows.every((r) => r.ok), cleanIterations };
}
