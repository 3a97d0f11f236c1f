import { type PolicySpec, benchPolicies, policiesSvg, scenarioPolicies } from '../../harness/bench/policies.js';
import { formatCount, toCsv } from '../../harness/bench/output.js';
import { machineConfigFor } from '../../harness/runner.js';
import { parseArchList } from '../arch-spec.js';
import { checkHw } from '../combinations.js';
import { UsageError } from '../errors.js';
import { loadScenario } from '../scenario-loader.js';
import { renderTable } from '../table.js';
import { createStepProgress } from '../progress.js';
import { type BenchOutputOptions, benchInterrupt, checkOutputs, emit } from './bench-common.js';
import { type CliContext, RUN_FOR_REAL, commandPool, inputsChecked } from '../context.js';

export interface BenchPoliciesOptions extends BenchOutputOptions {
  arch?: string[];
  hw?: string;
  cpus?: number;
  iterations?: number;
  seed?: number;
}

const f = (v: number): string => formatCount(v);

/** `smpsim bench policies <scenario>`: each policy on the same workload and seeds. */
export async function benchPoliciesCommand(scenarioArg: string, o: BenchPoliciesOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  const { costs, plot } = checkOutputs(o);
  const specs = o.arch ? parseArchList(o.arch) : undefined;
  if (o.arch && specs!.length === 0) throw new UsageError('--arch needs at least one policy name');
  const hw = o.hw === undefined ? undefined : checkHw(o.hw);
  const { scenario } = await loadScenario(scenarioArg);
  const policies: PolicySpec[] = specs ? specs.map((s) => ({ arch: s.arch, archOptions: Object.keys(s.archOptions).length ? s.archOptions : undefined })) : scenarioPolicies(scenario);
  if (!policies.length) throw new UsageError(`scenario '${scenario.name}' declares no policy: give --arch`);
  const useHw = hw ?? scenario.combinations[0]?.hw;
  if (!useHw) throw new UsageError(`scenario '${scenario.name}' declares no hardware: give --hw`);
  const cpus = o.cpus ?? scenario.cpus ?? 4;
  try {
    for (const p of policies) machineConfigFor(scenario, { ...p, hw: useHw }, cpus);
  } catch (e) {
    throw new UsageError(`${scenario.name} on ${useHw} with ${cpus} CPUs: ${(e as Error).message}`);
  }
  if (inputsChecked(ctx)) return 0;
  const { pool, release } = commandPool(ctx);
  const progress = createStepProgress('bench policies', policies.length, 'policies');
  const interrupt = benchInterrupt(progress);
  let r;
  try {
    r = await benchPolicies(pool, {
      scenario,
      policies,
      hw: useHw,
      cpus,
      iterations: o.iterations ?? 20,
      seed: o.seed,
      costs,
      onProgress: (t) => progress.step(t),
      shouldStop: interrupt.shouldStop,
      abort: interrupt.abort,
    });
  } finally {
    progress.stop();
    interrupt.dispose();
    await release();
  }
  const rows = r.rows.map((x) => [
    x.policy,
    f(x.ipisSent),
    f(x.broadcasts),
    f(x.flushes.page),
    f(x.flushes.range),
    f(x.flushes.mm),
    f(x.flushes.all),
    f(x.flushes.itlb),
    f(x.dropped.dtlb),
    f(x.dropped.itlb),
    f(x.dropped.walk),
    f(x.refillsAfterDrop),
    `${f(x.frees.delayed)}/${f(x.frees.data + x.frees.tables)}`,
    `${x.frees.delayMean.toFixed(1)}/${x.frees.delayMax}`,
    x.hostMsPerOp.toFixed(3),
    f(x.modelledCycles),
    String(x.violations),
  ]);
  const cols = ['policy', 'IPIs', 'bcasts', 'page', 'range', 'mm', 'full', 'I-TLB', 'D drop', 'I drop', 'walk drop', 'refills', 'delayed/freed', 'delay mean/max', 'host ms/op', 'cycles', 'viol'];
  const table = [
    `${r.scenario} on ${r.hw}, ${r.cpus} CPUs, ${r.iterations} iterations per policy, seed ${r.seed} (same iteration seeds for every policy)`,
    'per iteration: IPIs and broadcasts sent; flushes by kind (page, range, whole mm, full, with the I-TLB); entries dropped (D-TLB, I-TLB, walk cache);',
    'refill misses those drops caused; frees delayed of frees, and the delay (gather operations); host ms per kernel operation (median); modelled cycles',
    '',
    renderTable(cols.map((h, i) => ({ header: h, right: i > 0 })), rows),
    '',
    r.answer,
  ].join('\n');
  const csv = toCsv(
    ['policy', 'arch', 'hw', 'cpus', 'iterations', 'ops', 'ipis_sent', 'ipis_received', 'broadcasts', 'flush_page', 'flush_range', 'flush_mm', 'flush_all', 'flush_itlb', 'flush_walk', 'flush_total', 'dropped_dtlb', 'dropped_itlb', 'dropped_walk', 'refills_after_drop', 'itlb_refills_after_drop', 'dtlb_misses', 'itlb_misses', 'walks', 'frees_data', 'frees_tables', 'frees_immediate', 'frees_delayed', 'delay_mean', 'delay_max', 'host_ms_per_op', 'modelled_cycles', 'violations'],
    r.rows.map((x) => [x.policy, x.arch, r.hw, r.cpus, x.iterations, x.ops, x.ipisSent, x.ipisReceived, x.broadcasts, x.flushes.page, x.flushes.range, x.flushes.mm, x.flushes.all, x.flushes.itlb, x.flushes.walk, x.flushes.total, x.dropped.dtlb, x.dropped.itlb, x.dropped.walk, x.refillsAfterDrop, x.itlbRefillsAfterDrop, x.dtlbMisses, x.itlbMisses, x.walks, x.frees.data, x.frees.tables, x.frees.immediate, x.frees.delayed, x.frees.delayMean, x.frees.delayMax, x.hostMsPerOp, x.modelledCycles, x.violations]),
  );
  const partial = r.interrupted ? { done: `${r.rows.length} of ${policies.length} policies`, empty: r.rows.length === 0 } : undefined;
  emit(o, plot, { json: r, csv, table, svg: () => policiesSvg(r), partial }, ctx);
  if (r.interrupted) return interrupt.exitCode;
  return r.rows.some((x) => x.violations > 0) ? 1 : 0;
}
