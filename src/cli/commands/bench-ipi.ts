import { benchIpi, ipiSvg } from '../../harness/bench/ipi.js';
import { formatNs, toCsv } from '../../harness/bench/output.js';
import { CpuPool } from '../../harness/pool.js';
import { atMost } from '../exit.js';
import { renderTable } from '../table.js';
import { type BenchOutputOptions, benchInterrupt, checkOutputs, emit, progress, progressDone } from './bench-common.js';
import { type CliContext, RUN_FOR_REAL, inputsChecked } from '../context.js';

export interface BenchIpiOptions extends BenchOutputOptions {
  samples?: number;
  rounds?: number;
}

/** `smpsim bench ipi`: IPI round-trip latency beside a raw Atomics ping-pong. */
export async function benchIpiCommand(o: BenchIpiOptions, ctx: CliContext = RUN_FOR_REAL): Promise<number> {
  const { costs, plot } = checkOutputs(o);
  if (inputsChecked(ctx)) return 0;
  const pool = new CpuPool();
  const interrupt = benchInterrupt();
  const rounds = o.rounds ?? 10;
  let r;
  try {
    progress('bench ipi: measuring...');
    r = await benchIpi(pool, { samples: o.samples ?? 20_000, rounds, costs, shouldStop: interrupt.shouldStop, abort: interrupt.abort });
  } finally {
    progressDone();
    interrupt.dispose();
    await atMost(pool.close(), 5000);
  }
  const row = (name: string, s: typeof r.ipi): string[] => [name, String(s.count), formatNs(s.p50), formatNs(s.p90), formatNs(s.p99), formatNs(s.max)];
  const table = [
    `IPI round trip (post, handle at an instruction boundary, acknowledge) to a CPU spinning in its run loop,`,
    `beside a raw Atomics ping-pong between the same two threads, in ${r.rounds} alternating rounds (host: ${r.hostCores} cores)`,
    '',
    renderTable([{ header: 'series' }, { header: 'samples', right: true }, { header: 'p50', right: true }, { header: 'p90', right: true }, { header: 'p99', right: true }, { header: 'max', right: true }], [row('IPI round trip', r.ipi), row('raw ping-pong', r.raw)]),
    '',
    `IPI / raw ping-pong: ${r.ratioP50.toFixed(2)} at p50, ${r.ratioP99.toFixed(2)} at p99`,
    `modelled cost of one IPI: ${r.modelledCycles} cycles (ipi-send ${costs.ipiSend} + ipi-receive ${costs.ipiReceive})`,
  ].join('\n');
  const { ipiSamples: _i, rawSamples: _r, ...json } = r;
  const csv = toCsv(
    ['series', 'samples', 'p50_ns', 'p90_ns', 'p99_ns', 'max_ns', 'mean_ns', 'ratio_p50', 'ratio_p99'],
    [
      ['ipi', r.ipi.count, r.ipi.p50, r.ipi.p90, r.ipi.p99, r.ipi.max, r.ipi.mean, r.ratioP50, r.ratioP99],
      ['raw', r.raw.count, r.raw.p50, r.raw.p90, r.raw.p99, r.raw.max, r.raw.mean, 1, 1],
    ],
  );
  const partial = r.interrupted ? { done: `${r.rounds} of ${Math.max(1, Math.min(rounds, o.samples ?? 20_000))} rounds`, empty: r.rounds === 0 } : undefined;
  emit(o, plot, { json: { ...json, costs }, csv, table, svg: () => ipiSvg(r), partial });
  return r.interrupted ? interrupt.exitCode : 0;
}
