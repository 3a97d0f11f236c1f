import type { Machine } from '../machine/machine.js';
import { CommandContext, type KernelCommand, type KernelCommandResult, type ScriptOptions, commandDef } from './commands/index.js';
import { Step, kernelOp, syscallCode } from './ops.js';
import type { Kernel } from './syscalls.js';

export type { KernelCommand, KernelCommandResult, ScriptOptions } from './commands/index.js';

/**
 * Run a kernel script: plain, structured-cloneable commands (a harness sends
 * them to a CPU's worker), in order, on one Kernel (which keeps its Mm objects
 * between commands). Each command's handler is the one its file declares
 * (src/kernel/commands/).
 */
export function runKernelScript(kernel: Kernel, machine: Machine, script: readonly KernelCommand[], opts: ScriptOptions = {}): KernelCommandResult[] {
  const ctx = new CommandContext(kernel, machine, opts);
  return script.map((cmd) => {
    const def = commandDef(cmd.op);
    if (!def) throw new Error(`unknown kernel command '${cmd.op}'`);
    const out = def.run(ctx, cmd);
    if (def.syscall !== undefined) {
      // The call has returned and its promise was checked: the 'return' point.
      kernel.cpu.setKernelOp(kernelOp(syscallCode(def.syscall as Parameters<typeof syscallCode>[0]), Step.RETURN), 0);
      kernel.cpu.setKernelOp(0, 0);
    }
    return out;
  });
}
