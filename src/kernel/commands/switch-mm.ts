import { defineCommand } from './define.js';

/** switch_mm: load address space `asid` on this CPU (sets its bit in the mm's cpumask). */
export const switchMm = defineCommand({
  op: 'switchMm',
  syscall: undefined,
  summary: "load an address space on this CPU (switch_mm)",
  args: ({ z, asid }) => z.object({ asid }).strict(),
  run(ctx, a) {
    ctx.kernel.cpu.switchMm(a.asid);
    return { op: 'switchMm', pages: 0 };
  },
});
