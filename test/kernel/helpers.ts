import { Cpu } from '../../src/machine/cpu.js';
import { Machine } from '../../src/machine/machine.js';
import type { MachineConfig } from '../../src/machine/config.js';
import type { TraceEvent } from '../../src/kernel/gather-trace.js';
import { Kernel, type KernelOptions } from '../../src/kernel/syscalls.js';
import type { Mm } from '../../src/kernel/mm.js';

/**
 * Single-threaded fixtures: CPU 0 plays the coordinator, CPU 1 (optional) a
 * user CPU that is not executing (quiescent) unless a test calls into it.
 * wordsPerPage 16: a PTE table maps 16 pages, a PMD table 256, the space 4096.
 */
export interface Fixture {
  machine: Machine;
  cpu0: Cpu;
  cpu1: Cpu | null;
  kernel: Kernel;
  mm: Mm;
  /** Every trace event of every gather, in order (via onTrace). */
  events: TraceEvent[];
}

export function setup(policy: string, kopts: Partial<KernelOptions> = {}, mcfg: Partial<MachineConfig> = {}): Fixture {
  const machine = Machine.create({ cpus: 1, frames: 256, wordsPerPage: 16, flush: 'broadcast', ...mcfg });
  const cpu0 = new Cpu(machine.views, 0);
  const cpu1 = machine.config.cpus > 1 ? new Cpu(machine.views, 1) : null;
  const events: TraceEvent[] = [];
  const user = kopts.onTrace;
  const kernel = new Kernel(cpu0, {
    ...kopts,
    policy,
    onTrace: (ev, tlb) => {
      events.push(ev);
      user?.(ev, tlb);
    },
  });
  const mm = kernel.createMm(0);
  return { machine, cpu0, cpu1, kernel, mm, events };
}

/** Short, exact rendering of a trace for sequence assertions. */
export function seq(trace: readonly TraceEvent[]): string[] {
  return trace.map((e) => {
    if (e.t === 'sync') return 'sync';
    if (e.t === 'free') return `free ${e.what}${e.delayed ? '' : ' now'}`;
    if (e.t === 'park') return `park ${e.what}`;
    const w = `${e.which & 1 ? 'D' : ''}${e.which & 2 ? 'I' : ''}${e.which & 4 ? 'W' : ''}`;
    if (e.cls === 'mm' || e.cls === 'all') return `flush ${e.cls}`;
    return `flush ${e.start}-${e.end} ${w}`;
  });
}

/** The data frame mapped at vpn (throws if none). */
export function frameAt(f: Fixture, vpn: number): number {
  const pte = f.cpu0.pt.pte(f.mm.asid, vpn);
  if (!(pte & (1 << 20))) throw new Error(`vpn ${vpn} not mapped`);
  return pte & 0xfffff;
}

/**
 * For each free in `trace`, whether an earlier flush covers it: a whole-mm or
 * global flush, or a range flush containing the page's vpn (data) or the first
 * page of the table's span (tables). `where` maps frame → vpn (data) or span start (tables).
 */
export function uncoveredFrees(trace: readonly TraceEvent[], where: Map<number, number>): number[] {
  const bad: number[] = [];
  trace.forEach((e, i) => {
    if (e.t !== 'free') return;
    const vpn = where.get(e.frame);
    if (vpn === undefined) throw new Error(`unknown frame ${e.frame} freed`);
    const covered = trace.slice(0, i).some((p) => p.t === 'flush' && (p.cls === 'mm' || p.cls === 'all' || (p.start <= vpn && vpn < p.end)));
    if (!covered) bad.push(e.frame);
  });
  return bad;
}
