import type { z } from 'zod';
import { attachMm } from './attach-mm.js';
import { collapse } from './collapse.js';
import { createMm } from './create-mm.js';
import type { CommandDef } from './define.js';
import { exitMmap } from './exit-mmap.js';
import { fault } from './fault.js';
import { madvise } from './madvise.js';
import { mmap } from './mmap.js';
import { mremap } from './mremap.js';
import { munmap } from './munmap.js';
import { shiftArgPages } from './shift-arg-pages.js';
import { switchMm } from './switch-mm.js';
import { truncate } from './truncate.js';

export { CommandContext, type CommandDef, type KernelCommandResult, type SchemaKit, type ScriptOptions, defineCommand } from './define.js';

/**
 * Every kernel command a script may hold, each declared once in its own file.
 * The KernelCommand type, the scenario schema, the dispatcher and the system
 * call names reports print all derive from this list.
 */
export const KERNEL_COMMANDS = [createMm, attachMm, mmap, fault, switchMm, munmap, madvise, shiftArgPages, exitMmap, mremap, truncate, collapse] as const;

type Defs = (typeof KERNEL_COMMANDS)[number];

/** A kernel command as a script holds it: `{ op, ...args }`, plain and structured-cloneable. */
export type KernelCommand = { [D in Defs as D['op']]: { op: D['op'] } & z.infer<ReturnType<D['args']>> }[Defs['op']];
export type KernelCommandOp = KernelCommand['op'];

/** The system-call names the commands declare (what reports print as the freeing operation). */
export type SyscallName = Exclude<Defs['syscall'], undefined>;

const BY_OP: ReadonlyMap<string, CommandDef> = new Map(KERNEL_COMMANDS.map((d) => [d.op, d as unknown as CommandDef]));

/** The definition of command `op`, or undefined. */
export function commandDef(op: string): CommandDef | undefined {
  return BY_OP.get(op);
}
