import { defineCommand } from './define.js';

/** exit_mmap: a fullmm gather over the whole address space, then the pgd (unless freePgd is false). */
export const exitMmap = defineCommand({
  op: 'exitMmap',
  syscall: 'exit_mmap',
  summary: 'exit_mmap: tear the whole address space down (fullmm), then free the pgd',
  args: ({ z, asid }) => z.object({ asid, freePgd: z.boolean().optional() }).strict(),
  run(ctx, a) {
    return ctx.removal('exitMmap', a.asid, ctx.kernel.exitMmap(ctx.kernel.mm(a.asid), { freePgd: a.freePgd }));
  },
});
