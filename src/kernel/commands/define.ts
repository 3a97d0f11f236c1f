import type { z } from 'zod';
import type { Machine } from '../../machine/machine.js';
import type { GatherStats, TraceEvent } from '../gather-trace.js';
import { type StaleEntry, recordStaleAfterReturn, staleAfterReturn } from '../stale.js';
import type { Kernel, SyscallResult } from '../syscalls.js';

/**
 * A kernel command, declared once: the name a scenario's script uses (`op`),
 * the name of the system call it is (what reports print as the freeing
 * operation; none for set-up commands such as createMm), its arguments as a
 * zod schema (the scenario schema, the KernelCommand type and the dispatcher
 * all derive from it, so the compiler and not a run finds drift), and the
 * handler that runs it on a CPU's Kernel.
 *
 * The schema is built from the kit it is handed (schemas.ts), not from an
 * import of zod: a CPU's worker thread dispatches commands through these
 * definitions and never checks a scenario, so it does not load zod, which
 * was half of the 100 ms a worker thread took to load its modules.
 *
 * To add a command: write one file in this folder with defineCommand, and
 * list it in index.ts.
 */
export interface CommandDef<Op extends string = string, S extends z.ZodObject = z.ZodObject, Sys extends string | undefined = string | undefined> {
  readonly op: Op;
  /** The system call this command is, as reports name it (kernelOpName); undefined for set-up commands. */
  readonly syscall: Sys;
  /** One line for the docs and `smpsim list`. */
  readonly summary: string;
  /** The schema of the arguments besides `op` (strict: unknown keys are refused), from the kit. */
  readonly args: (kit: SchemaKit) => S;
  run(ctx: CommandContext, args: z.infer<S>): KernelCommandResult;
}

export function defineCommand<Op extends string, S extends z.ZodObject, Sys extends string | undefined = undefined>(d: CommandDef<Op, S, Sys>): CommandDef<Op, S, Sys> {
  return d;
}

export interface KernelCommandResult {
  op: string;
  /** mmap/fault: pages mapped; removing calls: PTEs cleared or moved. */
  pages: number;
  stats?: GatherStats;
  trace?: TraceEvent[];
  /** Removing calls, when checkStale: TLB entries of the removed range left after return. */
  stale?: StaleEntry[];
}

export interface ScriptOptions {
  /** After each removing call, list stale TLB entries of its range (default true). */
  checkStale?: boolean;
  /** Also write them to the machine's violation log as STALE_AFTER_RETURN (default true). */
  recordStale?: boolean;
  /** Keep the full trace in the results (default false: stats only). */
  keepTrace?: boolean;
}

/** What a handler runs with: the CPU's Kernel, the machine, and the script's options. */
export class CommandContext {
  constructor(
    readonly kernel: Kernel,
    readonly machine: Machine,
    readonly opts: ScriptOptions,
  ) {}

  /**
   * The result of a call that removed a range: its stats, and (unless the
   * script opted out) the "no stale translation after return" check of the
   * ranges it removed (in `asid`, or in the address space a range names:
   * truncate's are in every mm that maps the file), recorded as a violation
   * when something survived.
   */
  removal(op: string, asid: number, r: SyscallResult): KernelCommandResult {
    const res: KernelCommandResult = { op, pages: r.ptes, stats: r.stats };
    if (this.opts.keepTrace) res.trace = r.trace;
    if ((this.opts.checkStale ?? true) && r.removed.length) {
      res.stale = r.removed.flatMap((x) => staleAfterReturn(this.machine, x.asid ?? asid, x.start, x.end, r.entrySeq));
      const cpu = this.kernel.cpu;
      const call = { cpu: cpu.id, op: r.code << 8 };
      if ((this.opts.recordStale ?? true) && res.stale.length) recordStaleAfterReturn(this.machine, res.stale, cpu.reportStep(), call);
    }
    return res;
  }
}

/** What a command's schema is built from: zod itself and the pieces the commands share (schemas.ts makes it). */
export interface SchemaKit {
  z: typeof z;
  /** A whole number, at least `min`. */
  int: (min: number) => z.ZodNumber;
  asid: z.ZodNumber;
  vpn: z.ZodNumber;
  /** A page count: at least 1. */
  pages: z.ZodNumber;
}
