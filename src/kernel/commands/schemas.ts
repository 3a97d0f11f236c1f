import { z } from 'zod';
import type { SchemaKit } from './define.js';
import { KERNEL_COMMANDS, type KernelCommand } from './index.js';

/**
 * The kernel commands' argument schemas, built here and only here: zod is
 * loaded by what checks scenarios (the CLI, the harness), never by a CPU's
 * worker thread, which only dispatches (index.ts commandDef).
 */
const int = (min: number): z.ZodNumber => z.number().int().min(min);
const KIT: SchemaKit = { z, int, asid: int(0), vpn: int(0), pages: int(1) };

/** One schema per command: its arguments with `op` fixed, unknown keys refused. */
export function commandSchemas(): z.ZodObject[] {
  return KERNEL_COMMANDS.map((d) => d.args(KIT).extend({ op: z.literal(d.op) }).strict());
}

/** The schema of any kernel command (what a scenario's setup and script are checked against). */
export const kernelCommandSchema = z.discriminatedUnion('op', commandSchemas() as [z.ZodObject, ...z.ZodObject[]]) as unknown as z.ZodType<KernelCommand>;
