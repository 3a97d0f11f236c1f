import { benchIpi, ipiSvg } from '../../harness/bench/ipi.js';
import type { LatencySummary } from '../../harness/bench/histogram.js';
import { LATENCY_HEADERS, latencyCells, toCsv } from '../../harness/bench/output.js';
import { createStepProgress } from '../progress.js';
import { renderTable } from '../table.js';
import { type BenchOutputOptions, benchInterrupt, checkOutputs, emit } from './bench-common.js';
import { type CliContext, RUN_FOR_REAL, commandPool, inputsChecked } from '../context.js';

export interface BenchIpiOptions extends BenchOutputOptions {
  samples?: number;
  rounds?: number;
}

/** `smpsim bench ipi`: IPI round-trip latency beside a raw Atomics ping-pong. */
export async function benchIpiCommand(o: BenchIpiOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  const { costs, plot } = checkOutputs(o);
  if (inputsChecked(ctx)) return 0;
  const { pool, release } = commandPool(ctx);
  const rounds = o.rounds ?? 10;
  const samples = o.samples ?? 20_000;
  // benchIpi takes at most one round per sample.
  const roundsRun = Math.max(1, Math.min(rounds, samples));
  const progress = createStepProgress('bench ipi', roundsRun, 'rounds');
  const interrupt = benchInterrupt(progress);
  let r;
  try {
    r = await benchIpi(pool, { samples, rounds, costs, onProgress: (t) => progress.step(t), shouldStop: interrupt.shouldStop, abort: interrupt.abort });
  } finally {
    progress.stop();
    interrupt.dispose();
    await release();
  }
  const row = (name: string, s: LatencySummary): string[] => [name, ...latencyCells(s)];
  const table = [
    `IPI round trip (post, handle at an instruction boundary, acknowledge) to a CPU spinning in its run loop,`,
    `beside a raw Atomics ping-pong between the same two threads, in ${r.rounds} alternating rounds (host: ${r.hostCores} cores)`,
    '',
    renderTable([{ header: 'series' }, ...LATENCY_HEADERS.map((header) => ({ header, right: true }))], [row('IPI round trip', r.ipi), row('raw ping-pong', r.raw)]),
    '',
    `IPI / raw ping-pong: ${r.ratioP50.toFixed(2)} at p50, ${r.ratioP99.toFixed(2)} at p99`,
    `modelled cost of one IPI: ${r.modelledCycles} cycles (ipi-send ${costs.ipiSend} + ipi-receive ${costs.ipiReceive})`,
  ].join('\n');
  const { ipiSamples: _i, rawSamples: _r, ...json } = r;
  const csv = toCsv(
    ['series', 'samples', 'p50_ns', 'p90_ns', 'p99_ns', 'p999_ns', 'max_ns', 'mean_ns', 'ratio_p50', 'ratio_p99'],
    [
      ['ipi', r.ipi.count, r.ipi.p50Ns, r.ipi.p90Ns, r.ipi.p99Ns, r.ipi.p999Ns, r.ipi.maxNs, r.ipi.meanNs, r.ratioP50, r.ratioP99],
      ['raw', r.raw.count, r.raw.p50Ns, r.raw.p90Ns, r.raw.p99Ns, r.raw.p999Ns, r.raw.maxNs, r.raw.meanNs, 1, 1],
    ],
  );
  const partial = r.interrupted ? { done: `${r.rounds} of ${roundsRun} rounds`, empty: r.rounds === 0 } : undefined;
  emit(o, plot, { json: { ...json, costs }, csv, table, svg: () => ipiSvg(r), partial }, ctx);
  return r.interrupted ? interrupt.exitCode : 0;
}
