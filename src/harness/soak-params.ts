import { FLAVOURS } from '../machine/flavours.js';
import { type ParamPoint, TLB_SIZES, WALK_CACHE_SIZES, paramLabel, paramPoints } from './param-points.js';
import type { CpuPool } from './pool.js';
import { runScenario } from './runner.js';
import { type Combination, type Scenario, archLabel, kernelCpuIds } from './scenario.js';

/**
 * The soak's parameter sweep: every clean combination of every scenario on
 * machines of every CPU count from 2 to 9, batch capacities 1 to 500, every
 * allocator order, small and large TLBs and walk caches (paramPoints: each
 * combination its own round of 8 machines, more with `rounds`), where a
 * single violation is a failure: a correct policy is clean on any machine.
 *
 * What a scenario fixes, it keeps: a point with fewer CPUs than its kernel
 * CPUs need is skipped (and counted, with why); TLB and walk-cache sizes the
 * scenario's own `machine` sets stay as it sets them; hardware without a
 * walk cache (walkCache 0: ARM11 MPCore, SH-4A) keeps none. A point the
 * scenario's preflight refuses is skipped with the refusal.
 */
/**
 * The watchdog of the sweep's runs (unless the scenario sets its own): 9 CPU
 * threads on a 2-core host that other work shares can keep a CPU from
 * answering an IPI for longer than the default 2 s without anything being
 * stuck; the sweep hunts violations, and a CPU really stuck is still found.
 */
export const SWEEP_IPI_TIMEOUT_MS = 10_000;

export interface ParamSweepOptions {
  scenarios: readonly Scenario[];
  pool: CpuPool;
  /** Iterations per combination and point (default 1). */
  iterations?: number;
  /** Rounds of paramPoints() per combination (default 1: 8 machines, one per CPU count). */
  rounds?: number;
  /** These machines for every combination instead (tests). */
  points?: readonly ParamPoint[];
  seed?: number;
  /** One line per combination, and one per failing point. */
  onLine?: (line: string) => void;
}

export interface ParamSweepResult {
  /** Clean combinations swept. */
  combinations: number;
  /** (combination, point) runs made, and their iterations. */
  runs: number;
  iterations: number;
  violations: number;
  /** Failing runs: "scenario combination [point]: N violations", or the error of a stuck or failed CPU. */
  failures: string[];
  /** Runs skipped, by reason. */
  skipped: Map<string, number>;
  /** Runs made per dimension and value (coverage.get('CPUs')?.get('2') → 54), the values as they were run. */
  coverage: Map<string, Map<string, number>>;
}

/** The scenario on machine `p`, less what the scenario fixes itself; null with the reason when it cannot run there. */
export function onMachine(s: Scenario, c: Combination, p: ParamPoint): { scenario: Scenario; tlb: string; walkCache: string } | { skip: string } {
  const needs = Math.max(...kernelCpuIds(s)) + 1;
  if (p.cpus < needs) return { skip: `kernelCpus lists CPU ${needs - 1}: needs at least ${needs} CPUs` };
  const own = s.machine ?? {};
  const noWalkCache = (FLAVOURS[c.hw].config.walkCache ?? 8) === 0;
  const machine = {
    ...(own.dtlb === undefined && own.itlb === undefined ? TLB_SIZES[p.tlb] : {}),
    ...(own.walkCache === undefined && !noWalkCache ? { walkCache: WALK_CACHE_SIZES[p.walkCache] } : {}),
    ...own,
    allocOrder: p.allocOrder,
  };
  return {
    scenario: { ...s, batchCapacity: p.batchCapacity, machine },
    tlb: own.dtlb === undefined && own.itlb === undefined ? p.tlb : "the scenario's",
    walkCache: noWalkCache ? 'none (the hardware has none)' : own.walkCache === undefined ? p.walkCache : "the scenario's",
  };
}

export async function runParamSweep(o: ParamSweepOptions): Promise<ParamSweepResult> {
  const iterations = o.iterations ?? 1;
  const rounds = o.rounds ?? 1;
  // Combination i runs rounds i*R .. i*R+R-1: consecutive combinations see the parameters in other pairings.
  const machinesOf = (i: number): ParamPoint[] => o.points?.slice() ?? Array.from({ length: rounds }, (_, r) => paramPoints(i * rounds + r)).flat();
  const r: ParamSweepResult = { combinations: 0, runs: 0, iterations: 0, violations: 0, failures: [], skipped: new Map(), coverage: new Map() };
  const count = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (const s of o.scenarios) {
    for (const c of s.combinations.filter((x) => x.expect === 'clean')) {
      const points = machinesOf(r.combinations);
      r.combinations++;
      const label = `${s.name.padEnd(24)} ${`${archLabel(c)} / ${c.hw}`.padEnd(36)}`;
      let runs = 0;
      let violations = 0;
      let skipped = 0;
      let failed = 0;
      for (const p of points) {
        const m = onMachine(s, c, p);
        if ('skip' in m) {
          skipped++;
          count(r.skipped, `${s.name}: ${m.skip}`);
          continue;
        }
        let report;
        try {
          report = await runScenario({ scenario: m.scenario, combinations: [c], cpus: p.cpus, iterations, seed: o.seed ?? 1, pool: o.pool, ipiTimeoutMs: m.scenario.machine?.ipiTimeoutMs ?? SWEEP_IPI_TIMEOUT_MS });
        } catch (e) {
          // The preflight's refusal (a machine the scenario does not fit): skipped, with why.
          if ((e as { usage?: unknown }).usage === true) {
            skipped++;
            count(r.skipped, `${s.name}: ${(e as Error).message}`);
            continue;
          }
          // A stuck or failed CPU: a failure of this machine, named; the sweep goes on (the pool recovers).
          const f = `${s.name} ${archLabel(c)} / ${c.hw} [${paramLabel(p)}]: ${(e as Error).message.split('\n')[0]}`;
          r.failures.push(f);
          o.onLine?.(`FAIL ${f}`);
          failed++;
          continue;
        }
        const cr = report.combinations[0];
        runs++;
        r.runs++;
        r.iterations += cr.iterations;
        r.violations += cr.violations;
        violations += cr.violations;
        const values: [string, string][] = [['CPUs', String(p.cpus)], ['batch', String(p.batchCapacity)], ['allocator', p.allocOrder], ['TLB', m.tlb], ['walk cache', m.walkCache]];
        for (const [dim, v] of values) count(r.coverage.get(dim) ?? r.coverage.set(dim, new Map()).get(dim)!, v);
        if (cr.violations > 0) {
          const f = `${s.name} ${archLabel(c)} / ${c.hw} [${paramLabel(p)}]: ${cr.violations} violations (${cr.firstViolation?.kind ?? '?'})`;
          r.failures.push(f);
          o.onLine?.(`FAIL ${f}`);
        }
      }
      o.onLine?.(
        `${violations || failed ? 'FAIL' : 'ok  '} ${label} [parameters] ${runs} machines, ${runs * iterations} iterations, ${violations} violations${failed ? `, ${failed} failed` : ''}${skipped ? ` (${skipped} skipped)` : ''}`,
      );
    }
  }
  return r;
}
