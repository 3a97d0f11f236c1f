import type { KernelCommand, KernelCommandResult, PolicyOptions } from '../../kernel/index.js';
import { type MachineConfig, resolveConfig } from '../../machine/config.js';
import { FLAVOURS } from '../../machine/flavours.js';
import { Machine, type CpuCounters } from '../../machine/machine.js';
import type { CpuPool } from '../pool.js';
import type { ProbeTouch } from '../thread/bench-roles.js';

export interface ProbeOptions {
  arch: string;
  archOptions?: PolicyOptions;
  hw: string;
  machine?: Partial<MachineConfig>;
  /** CPU 0's commands before the start barrier, and after CPU 1 has touched its pages. */
  setup: KernelCommand[];
  script: KernelCommand[];
  /** CPU 1's accesses before the script and after it. */
  before: ProbeTouch[];
  after: ProbeTouch[];
}

export interface ProbeResult {
  counters: CpuCounters[];
  script: KernelCommandResult[];
  before: number[];
  after: number[];
  violations: number;
}

/**
 * A deterministic two-CPU run: CPU 1 touches `before`, CPU 0 runs `script`
 * while CPU 1 only takes IPIs, then CPU 1 touches `after`. Every count
 * (IPIs, flushes, entries dropped, refills after drops) is exact.
 */
export async function probe(pool: CpuPool, o: ProbeOptions): Promise<ProbeResult> {
  const m = Machine.create(resolveConfig({ ...FLAVOURS[o.hw].config, speculation: 0, ...o.machine, cpus: 2 }));
  await pool.bind(m);
  const [k, u] = await pool.run([
    { role: 'probeKernel', args: { arch: o.arch, archOptions: o.archOptions, setup: o.setup, script: o.script, parties: 2 } },
    { role: 'probeUser', args: { asid: 0, before: o.before, after: o.after }, barrier: 2 },
  ]);
  const kr = k.result as { script: KernelCommandResult[] };
  const ur = u.result as { before: number[]; after: number[] };
  return { counters: [m.counters(0), m.counters(1)], script: kr.script, before: ur.before, after: ur.after, violations: m.violations().total };
}
